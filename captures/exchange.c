/* exchange: the shared record type. */
#include "exchange.h"

#include <stdlib.h>
#include <string.h>

void exchange_init(exchange *x)
{
    memset(x, 0, sizeof *x);
}

void exchange_clear(exchange *x)
{
    free(x->target_uri);
    free(x->client_addr);
    free(x->request);
    free(x->response);
    free(x->error);
    free(x->redacted_request);
    free(x->redacted_response);
    free(x->protocol);
    memset(x, 0, sizeof *x);
}

int exchange_set_str(char **field, const char *s)
{
    char *c = NULL;
    if (s) {
        c = strdup(s);
        if (!c)
            return -1;
    }
    free(*field);
    *field = c;
    return 0;
}

int exchange_set_buf(char **field, size_t *len, const void *data, size_t n)
{
    /* One extra NUL byte so raw messages can also be used as C strings by careless readers. */
    char *c = malloc(n + 1);
    if (!c)
        return -1;
    if (n)
        memcpy(c, data, n);
    c[n] = '\0';
    free(*field);
    *field = c;
    *len = n;
    return 0;
}

int exchange_copy(exchange *dst, const exchange *src)
{
    exchange t = *src;
    t.target_uri = t.client_addr = t.request = t.response = t.error = t.protocol = NULL;
    t.redacted_request = t.redacted_response = NULL;
    t.request_len = t.response_len = 0;
    if (exchange_set_str(&t.target_uri, src->target_uri) || exchange_set_str(&t.client_addr, src->client_addr) ||
        exchange_set_str(&t.error, src->error) || exchange_set_str(&t.protocol, src->protocol) ||
        exchange_set_str(&t.redacted_request, src->redacted_request) ||
        exchange_set_str(&t.redacted_response, src->redacted_response) ||
        (src->request && exchange_set_buf(&t.request, &t.request_len, src->request, src->request_len)) ||
        (src->response && exchange_set_buf(&t.response, &t.response_len, src->response, src->response_len))) {
        exchange_clear(&t);
        exchange_init(dst);
        return -1;
    }
    *dst = t;
    return 0;
}

exchange *exchange_new(void)
{
    return calloc(1, sizeof(exchange));
}

void exchange_free(exchange *x)
{
    if (!x)
        return;
    exchange_clear(x);
    free(x);
}

void exchange_release_request(exchange *x)
{
    free(x->request);
    x->request = NULL;
    x->request_len = 0;
}

void exchange_release_response(exchange *x)
{
    free(x->response);
    x->response = NULL;
    x->response_len = 0;
}
