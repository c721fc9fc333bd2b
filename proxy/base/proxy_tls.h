/* proxy_tls: the OpenSSL contexts of the proxy. One for the listener (--tls-cert/--tls-key, TLS 1.2 and
 * 1.3, ALPN h2 and http/1.1; re-read on SIGHUP: new handshakes use the new certificate, established
 * connections keep theirs) and one for https:// upstreams (verified against the system CAs or
 * --upstream-ca, SNI and host name checked). Shared by every thread: every call is thread-safe. */
#ifndef TAPEDECK_PROXY_TLS_H
#define TAPEDECK_PROXY_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

typedef struct proxy_tls proxy_tls;

/* cert/key: PEM files for the listener (both NULL: no TLS listener). upstream_ca: PEM bundle for
 * https:// upstreams (NULL: the system CAs). NULL with err set when a file cannot be used. */
proxy_tls *proxy_tls_new(const char *cert, const char *key, const char *upstream_ca, char *err,
                         size_t errlen);
void proxy_tls_free(proxy_tls *t); /* NULL is a no-op */
/* Re-reads the certificate and key. On failure the current ones stay (err says why): -1, else 0. */
int proxy_tls_reload(proxy_tls *t, char *err, size_t errlen);
int proxy_tls_listening(const proxy_tls *t); /* 1 when the listener speaks TLS */
/* A new server-side SSL for an accepted connection (caller owns it), or NULL. */
SSL *proxy_tls_server_ssl(proxy_tls *t);
/* A new client-side SSL for a connection to host (SNI and verified name), or NULL. */
SSL *proxy_tls_client_ssl(proxy_tls *t, const char *host);
/* "tls/1.3", "tls/1.2" (the WARC-Protocol token of a finished handshake). */
const char *proxy_tls_version_token(const SSL *ssl);
/* 1 when ALPN chose h2. */
int proxy_tls_alpn_h2(const SSL *ssl);
/* The last OpenSSL error queued on this thread, for logs (clears the queue). */
const char *proxy_tls_last_error(char *buf, size_t bufsz);

#endif
