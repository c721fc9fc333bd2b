/* proxy_tls: SSL_CTX setup and reload. The listener's context sits behind a mutex only for the swap:
 * SSL_new takes its own reference, so a context replaced on SIGHUP lives on until its last connection
 * ends. */
#include "proxy_tls.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

struct proxy_tls {
    pthread_mutex_t mu;
    SSL_CTX *server; /* NULL: cleartext listener */
    SSL_CTX *client;
    char *cert, *key;
};

const char *proxy_tls_last_error(char *buf, size_t bufsz)
{
    unsigned long e = ERR_get_error();
    if (!e)
        snprintf(buf, bufsz, "unknown TLS error");
    else
        ERR_error_string_n(e, buf, bufsz);
    ERR_clear_error();
    return buf;
}

/* ALPN: h2 when the client offers it, else http/1.1; a client that offers neither gets no ALPN answer
 * (and HTTP/1.x), as servers commonly do. */
static int alpn_select(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg)
{
    static const unsigned char ours[] = "\x02h2\x08http/1.1";
    unsigned char *sel = NULL;
    unsigned char sel_len = 0;
    if (SSL_select_next_proto(&sel, &sel_len, ours, sizeof ours - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = sel;
    *outlen = sel_len;
    return SSL_TLSEXT_ERR_OK;
}

static SSL_CTX *server_ctx_new(const char *cert, const char *key, char *err, size_t errlen)
{
    char e[256];
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errlen, "TLS: %s", proxy_tls_last_error(e, sizeof e));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
    /* renegotiation is a CPU lever for a client (one handshake after another on one connection) */
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    /* the chain sent is what the certificate file holds: building one from the trust store on every
     * handshake (OpenSSL's default when the file has no chain) costs a store lookup per handshake */
    SSL_CTX_set_mode(ctx, SSL_MODE_NO_AUTO_CHAIN);
    SSL_CTX_set_alpn_select_cb(ctx, alpn_select, NULL);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
        snprintf(err, errlen, "--tls-cert %s: %s", cert, proxy_tls_last_error(e, sizeof e));
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
        snprintf(err, errlen, "--tls-key %s: %s", key, proxy_tls_last_error(e, sizeof e));
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        snprintf(err, errlen, "--tls-key %s does not match --tls-cert %s", key, cert);
        goto fail;
    }
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

static SSL_CTX *client_ctx_new(const char *ca, char *err, size_t errlen)
{
    char e[256];
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        snprintf(err, errlen, "TLS: %s", proxy_tls_last_error(e, sizeof e));
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    static const unsigned char alpn[] = "\x08http/1.1"; /* the upstream pool speaks HTTP/1.1 */
    SSL_CTX_set_alpn_protos(ctx, alpn, sizeof alpn - 1);
    int ok = ca ? SSL_CTX_load_verify_locations(ctx, ca, NULL) : SSL_CTX_set_default_verify_paths(ctx);
    if (ok != 1) {
        snprintf(err, errlen, "--upstream-ca %s: %s", ca ? ca : "(system)",
                 proxy_tls_last_error(e, sizeof e));
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

proxy_tls *proxy_tls_new(const char *cert, const char *key, const char *upstream_ca, char *err, size_t errlen)
{
    proxy_tls *t = calloc(1, sizeof *t), *result = NULL;
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&t->mu, NULL);
    if (cert) {
        t->cert = strdup(cert);
        t->key = strdup(key);
        if (!t->cert || !t->key) {
            snprintf(err, errlen, "out of memory");
            goto out;
        }
        t->server = server_ctx_new(cert, key, err, errlen);
        if (!t->server)
            goto out;
    }
    t->client = client_ctx_new(upstream_ca, err, errlen);
    if (!t->client)
        goto out;
    result = t;
    t = NULL;
out:
    proxy_tls_free(t);
    return result;
}

void proxy_tls_free(proxy_tls *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->server);
    SSL_CTX_free(t->client);
    free(t->cert);
    free(t->key);
    pthread_mutex_destroy(&t->mu);
    free(t);
}

int proxy_tls_reload(proxy_tls *t, char *err, size_t errlen)
{
    if (!t->server)
        return 0;
    SSL_CTX *ctx = server_ctx_new(t->cert, t->key, err, errlen);
    if (!ctx)
        return -1;
    pthread_mutex_lock(&t->mu);
    SSL_CTX *old = t->server;
    t->server = ctx;
    pthread_mutex_unlock(&t->mu);
    SSL_CTX_free(old); /* connections made with it hold their own references */
    return 0;
}

int proxy_tls_listening(const proxy_tls *t)
{
    return t && t->server != NULL;
}

SSL *proxy_tls_server_ssl(proxy_tls *t)
{
    pthread_mutex_lock(&t->mu);
    SSL *ssl = t->server ? SSL_new(t->server) : NULL;
    pthread_mutex_unlock(&t->mu);
    return ssl;
}

SSL *proxy_tls_client_ssl(proxy_tls *t, const char *host)
{
    SSL *ssl = SSL_new(t->client);
    if (!ssl)
        return NULL;
    unsigned char ip[16];
    int is_ip = inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1;
    int ok = 1;
    if (is_ip) {
        /* no SNI for an address (RFC 6066 3); the certificate must name the address */
        ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host) == 1;
    } else {
        ok = SSL_set_tlsext_host_name(ssl, host) == 1 && SSL_set1_host(ssl, host) == 1;
    }
    if (!ok) {
        SSL_free(ssl);
        return NULL;
    }
    return ssl;
}

const char *proxy_tls_version_token(const SSL *ssl)
{
    switch (SSL_version(ssl)) {
    case TLS1_3_VERSION: return "tls/1.3";
    case TLS1_2_VERSION: return "tls/1.2";
    default: return "tls";
    }
}

int proxy_tls_alpn_h2(const SSL *ssl)
{
    const unsigned char *p = NULL;
    unsigned int n = 0;
    SSL_get0_alpn_selected(ssl, &p, &n);
    return n == 2 && p[0] == 'h' && p[1] == '2';
}
