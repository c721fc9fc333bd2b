/* check_compare: status, media type, chosen headers, body by kind (JSON structurally, text exactly with a
 * context snippet, binary by SHA-256). */
#include "check_compare.h"

#include <ctype.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jsondiff.h"

#define CMP_VALUE_MAX 200 /* characters of a value shown in a report */

static int add(cmp_list *l, const char *where, const char *e, const char *a)
{
    l->total++;
    if (l->n == CMP_MAX_KEPT)
        return 0;
    cmp_diff *d = &l->v[l->n];
    d->where = strdup(where);
    d->expected = strdup(e ? e : "(missing)");
    d->actual = strdup(a ? a : "(missing)");
    if (!d->where || !d->expected || !d->actual) {
        free(d->where);
        free(d->expected);
        free(d->actual);
        memset(d, 0, sizeof *d);
        return -1;
    }
    l->n++;
    return 0;
}

void cmp_list_clear(cmp_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].where);
        free(l->v[i].expected);
        free(l->v[i].actual);
    }
    memset(l, 0, sizeof *l);
}

static int inside(const char *outer, const char *inner)
{
    size_t n = strlen(outer);
    return !strncmp(outer, inner, n) && (inner[n] == '.' || inner[n] == '[');
}

void cmp_norm_where(const char *w, char *out, size_t outsz)
{
    size_t j = 0;
    for (size_t i = 0; w[i] && j + 4 < outsz; i++) {
        if (w[0] == '$' && w[i] == '[' && w[i + 1] >= '0' && w[i + 1] <= '9') {
            size_t k = i + 1;
            while (w[k] >= '0' && w[k] <= '9')
                k++;
            if (w[k] == ']') {
                memcpy(out + j, "[*]", 3);
                j += 3;
                i = k;
                continue;
            }
        }
        out[j++] = w[i];
    }
    out[j] = '\0';
}

int cmp_is_noise(const cmp_list *noise, const char *where)
{
    if (!noise)
        return 0;
    /* Array positions do not matter: noise seen at $.items[3].ts is noise at $.items[0].ts too. */
    char nw[512], nn[512];
    cmp_norm_where(where, nw, sizeof nw);
    for (size_t i = 0; i < noise->n; i++) {
        cmp_norm_where(noise->v[i].where, nn, sizeof nn);
        if (!strcmp(nn, nw) || (nn[0] == '$' && nw[0] == '$' && (inside(nn, nw) || inside(nw, nn))))
            return 1;
    }
    return 0;
}

size_t cmp_split_noise(cmp_list *l, const cmp_list *noise, cmp_list *moved)
{
    size_t kept = 0, n_moved = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (cmp_is_noise(noise, l->v[i].where)) {
            if (moved->n < CMP_MAX_KEPT) {
                moved->v[moved->n++] = l->v[i];
            } else {
                free(l->v[i].where);
                free(l->v[i].expected);
                free(l->v[i].actual);
            }
            moved->total++;
            n_moved++;
        } else {
            l->v[kept++] = l->v[i];
        }
    }
    l->total -= n_moved;
    l->n = kept;
    return n_moved;
}

static int ignored_header(const cmp_cfg *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_ignore_header; i++)
        if (!strcasecmp(cfg->ignore_header[i], name))
            return 1;
    return 0;
}

static int is_json_type(const char *mt)
{
    return decode_is_json_type(mt);
}

static int is_text(const char *mt, const char *body, size_t len)
{
    if (!strncmp(mt, "text/", 5) || strstr(mt, "xml") || strstr(mt, "javascript") ||
        !strcmp(mt, "application/x-www-form-urlencoded") || is_json_type(mt))
        return 1;
    if (mt[0])
        return 0;
    return memchr(body, '\0', len) == NULL; /* no media type: text unless it holds NUL bytes */
}

/* "…context…" around offset off, non-printables escaped. */
static void snippet(const char *s, size_t len, size_t off, char *out, size_t outsz)
{
    size_t from = off > 24 ? off - 24 : 0, to = off + 40 < len ? off + 40 : len, j = 0;
    int n = off ? snprintf(out, outsz, "at byte %zu: %s", off, from ? "..." : "") : 0;
    j = n > 0 ? (size_t)n : 0;
    for (size_t i = from; i < to && j + 6 < outsz; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '\n') {
            out[j++] = '\\';
            out[j++] = 'n';
        } else if (ch == '\r') {
            out[j++] = '\\';
            out[j++] = 'r';
        } else if (ch < 0x20 || ch == 0x7f) {
            j += (size_t)snprintf(out + j, outsz - j, "\\x%02x", ch);
        } else {
            out[j++] = (char)ch;
        }
    }
    if (to < len && j + 4 < outsz) {
        memcpy(out + j, "...", 3);
        j += 3;
    }
    if (to >= len && off >= len && j + 8 < outsz) {
        memcpy(out + j, "(end)", 5);
        j += 5;
    }
    out[j < outsz ? j : outsz - 1] = '\0';
}

static void digest(const char *s, size_t len, char *out, size_t outsz)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_Digest(s, len, md, &mdlen, EVP_sha256(), NULL);
    int n = snprintf(out, outsz, "sha256:");
    for (unsigned int i = 0; i < mdlen && (size_t)n + 3 < outsz; i++)
        n += snprintf(out + n, outsz - (size_t)n, "%02x", md[i]);
    snprintf(out + n, outsz - (size_t)n, " (%zu bytes)", len);
}

typedef struct emit_ctx {
    cmp_list *out;
    int oom;
} emit_ctx;

static int on_json_diff(void *ud, const char *path, const char *e, const char *a)
{
    emit_ctx *x = ud;
    if (add(x->out, path, e, a) < 0)
        x->oom = 1;
    return x->oom;
}

static int cmp_body(decode_msg *exp, decode_msg *act, const cmp_cfg *cfg, correlate_ref *corr, cmp_list *out)
{
    const char *eb = exp->body ? exp->body : "", *ab = act->body ? act->body : "";
    size_t el = exp->body_len, al = act->body_len;
    if (el == al && !memcmp(eb, ab, el))
        return 0; /* the same bytes: equal whatever the kind (and no parse needed) */
    if (is_json_type(exp->media_type) || is_json_type(act->media_type)) {
        emit_ctx x = {out, 0};
        jsondiff_opts jo = {.ignore = cfg->ignore, .equiv = corr ? correlate_equiv : NULL, .equiv_ud = corr};
        long rc = jsondiff(cfg->jd, eb, el, ab, al, &jo, on_json_diff, &x);
        if (rc >= 0)
            return x.oom ? -1 : 0;
        if (rc == JSONDIFF_ENOMEM)
            return -1;
        if (rc == JSONDIFF_EACTUAL) {
            /* the recording is JSON, the answer is not: say so, with the start of the answer */
            char as[160] = "not JSON: ";
            snippet(ab, al, 0, as + 10, sizeof as - 10);
            return add(out, "body", "a JSON document", as);
        }
        /* neither parses: compare as text below */
    }
    if (is_text(exp->media_type, eb, el) && is_text(act->media_type, ab, al)) {
        size_t i = 0;
        while (i < el && i < al && eb[i] == ab[i])
            i++;
        char es[256], as[256];
        snippet(eb, el, i, es, sizeof es);
        snippet(ab, al, i, as, sizeof as);
        return add(out, "body", es, as);
    }
    char es[128], as[128];
    digest(eb, el, es, sizeof es);
    digest(ab, al, as, sizeof as);
    return add(out, "body", es, as);
}

int cmp_responses(decode_msg *exp, decode_msg *act, int body_trusted, const cmp_cfg *cfg,
                  correlate_ref *corr, cmp_list *out)
{
    size_t before = out->total;
    char eb[64], ab[64];
    if (exp->status != act->status) {
        snprintf(eb, sizeof eb, "%d", exp->status);
        snprintf(ab, sizeof ab, "%d", act->status);
        if (add(out, "status", eb, ab) < 0)
            return -1;
    }
    if (!ignored_header(cfg, "Content-Type") && strcmp(exp->media_type, act->media_type) &&
        add(out, "content-type", exp->media_type[0] ? exp->media_type : NULL,
            act->media_type[0] ? act->media_type : NULL) < 0)
        return -1;
    for (size_t i = 0; i < cfg->n_compare_header; i++) {
        const char *name = cfg->compare_header[i];
        if (ignored_header(cfg, name))
            continue;
        char ev[1024], av[1024];
        int he = httpmsg_header_value(&exp->msg.head, name, ev, sizeof ev);
        int ha = httpmsg_header_value(&act->msg.head, name, av, sizeof av);
        if (he && ha && !strcmp(ev, av))
            continue;
        if (!he && !ha)
            continue;
        if (he && ha && corr) {
            char *mapped = NULL;
            char line[1100];
            snprintf(line, sizeof line, "%s: %s", name, ev);
            mapped = correlate_rewrite_header(corr->c, line);
            int same = mapped && !strcmp(mapped + strlen(name) + 2, av);
            if (!same && !strcasecmp(name, "Location")) {
                free(mapped);
                same = (mapped = correlate_rewrite_target(corr->c, ev)) && !strcmp(mapped, av);
            }
            free(mapped);
            if (same)
                continue;
        }
        char where[300];
        snprintf(where, sizeof where, "header:%s", name);
        if (add(out, where, he ? ev : NULL, ha ? av : NULL) < 0)
            return -1;
    }
    if (body_trusted && exp->status != act->status) {
        /* Another status means another kind of answer: a field-by-field diff of an error body against a
         * resource says nothing more. Show the start of both bodies instead. */
        if (exp->body_len != act->body_len || memcmp(exp->body, act->body, exp->body_len)) {
            char es[160], as[160];
            snippet(exp->body ? exp->body : "", exp->body_len, 0, es, sizeof es);
            snippet(act->body ? act->body : "", act->body_len, 0, as, sizeof as);
            if (add(out, "body", es, as) < 0)
                return -1;
        }
    } else if (body_trusted && cmp_body(exp, act, cfg, corr, out) < 0) {
        return -1;
    }
    return (int)(out->total - before);
}
