/* proxy_tls: the OpenSSL contexts of the proxy. One for the listener (--tls-cert/--tls-key, TLS 1.2 and
 * 1.3, ALPN h2 and http/1.1; re-read on SIGHUP: new handshakes use the new certificate, established
 * connections keep theirs) and one for https:// upstreams (verified against the system CAs or
 * --upstream-ca, SNI and host name checked). Shared by every thread: every call is thread-safe. */
#ifndef TAPEDECK_PROXY_TLS_H
#define TAPEDECK_PROXY_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

typedef struct ptls ptls;

/* cert/key: PEM files for the listener (both NULL: no TLS listener). upstream_ca: PEM bundle for
 * https:// upstreams (NULL: the system CAs). NULL with err set when a file cannot be used. */
ptls *ptls_new(const char *cert, const char *key, const char *upstream_ca, char *err, size_t errlen);
void ptls_free(ptls *t); /* NULL is a no-op */
/* Re-reads the certificate and key. On failure the current ones stay (err says why): -1, else 0. */
int ptls_reload(ptls *t, char *err, size_t errlen);
int ptls_listening(const ptls *t); /* 1 when the listener speaks TLS */
/* A new server-side SSL for an accepted connection (caller owns it), or NULL. */
SSL *ptls_server_ssl(ptls *t);
/* A new client-side SSL for a connection to host (SNI and verified name), or NULL. */
SSL *ptls_client_ssl(ptls *t, const char *host);
/* "tls/1.3", "tls/1.2" (the WARC-Protocol token of a finished handshake). */
const char *ptls_version_token(const SSL *ssl);
/* 1 when ALPN chose h2. */
int ptls_alpn_h2(const SSL *ssl);
/* The last OpenSSL error queued on this thread, for logs (clears the queue). */
const char *ptls_last_error(char *buf, size_t bufsz);

#endif
