/* proxy_redact: builds the rules from the command line once, then applies them record by record. */
#include "proxy_redact.h"

#include <stdio.h>
#include <stdlib.h>

#include "redact.h"

struct proxy_redact {
    redact *rules;
    proxy_metrics *m;
};

proxy_redact *proxy_redact_new(const proxy_config *cfg, proxy_metrics *m, char *err, size_t errlen)
{
    proxy_redact *p = NULL, *result = NULL;
    if (errlen)
        err[0] = '\0';
    if (cfg->n_redact == 0)
        return NULL;
    if (!(p = calloc(1, sizeof *p)) || !(p->rules = redact_new())) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    p->m = m;
    for (size_t i = 0; i < cfg->n_redact; i++)
        if (redact_add(p->rules, (redact_kind)cfg->redact[i].kind, cfg->redact[i].arg, err, errlen) != REDACT_OK)
            goto out;
    if (cfg->redact_key_file && redact_key_file(p->rules, cfg->redact_key_file, err, errlen) != REDACT_OK)
        goto out;
    result = p;
    p = NULL;
out:
    proxy_redact_free(p);
    return result;
}

void proxy_redact_free(proxy_redact *r)
{
    if (!r)
        return;
    redact_free(r->rules);
    free(r);
}

int proxy_redact_apply(proxy_redact *r, exchange *x)
{
    redact_counts c = {0, 0};
    if (redact_exchange(r->rules, x, &c) < 0)
        return -1;
    if (c.exchanges || c.bodies_replaced)
        proxy_metrics_redacted(r->m, c.exchanges, c.bodies_replaced);
    return 0;
}
