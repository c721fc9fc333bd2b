/* capreader_pair: request and response records into exchanges, whichever order they come in.
 *
 * tapedeck writes each request right before its response; warcio writes the response first; wget
 * names the request in the response's WARC-Concurrent-To, other writers name the response in the
 * request's. Records wait in a small queue (file order) until their partner arrives; the head of the
 * queue goes out once it is paired, or alone once the queue is full or the file ends, so memory is
 * bounded and exchanges keep the order of their first record.
 *
 * Shadow answers (tapedeck-proxy --mirror-record: responses with a WARC-Tapedeck-Role) are never a
 * request's partner; they come right after their exchange's records and are attached to it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "capreader_int.h"

void cr_pair_free(capreader *r)
{
    for (size_t i = 0; i < r->q_len; i++)
        warc_record_clear(&r->q[i].rec);
    free(r->q);
    r->q = NULL;
    r->q_len = 0;
}


static int has_prefix_ci(const char *s, const char *p)
{
    return s && !strncasecmp(s, p, strlen(p));
}

/* 1 = a request or response record carrying an HTTP message; 0 = skipped (and counted). */
static int keep_record(capreader *r, const warc_record *rec, int *is_req)
{
    const char *t = warc_record_type(rec);
    capreader_skips *k = &r->skips;
    if (t && (!strcasecmp(t, "request") || !strcasecmp(t, "response"))) {
        const char *ct = warc_record_get(rec, "Content-Type");
        const char *uri = warc_record_get(rec, "WARC-Target-URI");
        if (uri && *uri == '<')
            uri++;
        /* dns: and whois: responses (Heritrix), or a message that is not HTTP */
        if ((ct && !has_prefix_ci(ct, "application/http")) ||
            (uri && !has_prefix_ci(uri, "http:") && !has_prefix_ci(uri, "https:"))) {
            k->not_http++;
            return 0;
        }
        *is_req = !strcasecmp(t, "request");
        return 1;
    }
    if (t && !strcasecmp(t, "warcinfo"))
        k->warcinfo++;
    else if (t && !strcasecmp(t, "metadata"))
        k->metadata++;
    else if (t && !strcasecmp(t, "resource"))
        k->resource++;
    else if (t && !strcasecmp(t, "revisit"))
        k->revisit++;
    else if (t && !strcasecmp(t, "conversion"))
        k->conversion++;
    else
        k->other++;
    return 0;
}

static int was_handed_out(const capreader *r, const char *req_id)
{
    if (!*req_id)
        return 0;
    for (size_t i = 0; i < CR_RECENT; i++)
        if (!strcmp(r->recent[i], req_id))
            return 1;
    return 0;
}

/* Do records a and b (one request, one response) belong together? */
static int partners(const cr_pend *a, const cr_pend *b, int adjacent)
{
    if (a->is_req == b->is_req || a->shadow || b->shadow)
        return 0;
    const cr_pend *q = a->is_req ? a : b, *s = a->is_req ? b : a;
    if (s->role != -1)
        return 0; /* a shadow's answer, not the exchange's response */
    if ((s->to[0] && !strcmp(s->to, q->id)) || (q->to[0] && !strcmp(q->to, s->id)))
        return 1;
    /* Neither names any record: the same URI right next to each other. */
    return adjacent && !s->to[0] && !q->to[0] && q->uri && s->uri && !strcmp(q->uri, s->uri);
}

static void drop_at(capreader *r, size_t i)
{
    r->q_bytes -= r->q[i].bytes;
    warc_record_clear(&r->q[i].rec);
    memmove(&r->q[i], &r->q[i + 1], (r->q_len - i - 1) * sizeof *r->q);
    r->q_len--;
}

/* Steal the record's block instead of copying it a second time. */
static void steal_block(warc_record *rec, char **dst, size_t *len)
{
    if (!rec->block)
        return;
    free(*dst);
    *dst = rec->block;
    *len = rec->block_len;
    rec->block = NULL;
    rec->block_len = 0;
}

static int pull(capreader *r);

/* Shadow answers follow their exchange's records: read on while the last record queued belongs to the
 * exchange of req_id (its request, response or a shadow answer), within the look-ahead. */
static void pull_shadows(capreader *r, const char *req_id)
{
    while (*req_id && !r->q_eof && r->q_len < CR_LOOKAHEAD) {
        const cr_pend *last = &r->q[r->q_len - 1];
        if (strcmp(last->id, req_id) && strcmp(last->to, req_id))
            return;
        pull(r);
    }
}

/* Attaches the queued shadow answers naming req_id to x, marking them in gone[]. 0 or WARC_ENOMEM. */
static int take_shadows(capreader *r, const char *req_id, exchange *x, char *gone)
{
    for (size_t i = 1; *req_id && i < r->q_len; i++) {
        cr_pend *p = &r->q[i];
        if (p->is_req || p->role == -1 || strcmp(p->to, req_id))
            continue;
        gone[i] = 1;
        if (p->role >= 0 && warc_record_to_shadow(&p->rec, p->role, x) != WARC_OK)
            return WARC_ENOMEM;
    }
    return WARC_OK;
}

/* Hand out q[0] (and its partner q[j], j > 0, or none when j == 0) as x, with its shadow answers. */
static int emit(capreader *r, size_t j, exchange *x)
{
    char req_id[sizeof r->q[0].id];
    memcpy(req_id, r->q[0].is_req ? r->q[0].id : r->q[j].id, sizeof req_id);
    pull_shadows(r, req_id); /* only appends: q[0] and q[j] stay where they are */
    cr_pend *req = r->q[0].is_req ? &r->q[0] : &r->q[j], *resp = j ? (r->q[0].is_req ? &r->q[j] : &r->q[0]) : NULL;
    char gone[CR_LOOKAHEAD] = {0};
    char err[160];
    uint64_t off = req->off;
    int wrc = warc_records_to_exchange(&req->rec, resp ? &resp->rec : NULL, x, err, sizeof err);
    if (wrc == WARC_OK) {
        steal_block(&req->rec, &x->request, &x->request_len);
        if (resp)
            steal_block(&resp->rec, &x->response, &x->response_len);
        snprintf(r->recent[r->recent_pos], sizeof r->recent[0], "%s", req->id);
        r->recent_pos = (r->recent_pos + 1) % CR_RECENT;
        if (take_shadows(r, req_id, x, gone) != WARC_OK) {
            exchange_clear(x);
            wrc = WARC_ENOMEM;
        }
    }
    gone[0] = 1;
    gone[j] = 1;
    for (size_t i = r->q_len; i-- > 0;) /* from the end: drop_at moves what follows */
        if (gone[i])
            drop_at(r, i);
    if (wrc == WARC_ENOMEM)
        return cr_fail(r, CAPREADER_ENOMEM, off, "out of memory");
    if (wrc != WARC_OK)
        return cr_fail(r, CAPREADER_ECORRUPT, off, "%s", err);
    return 1;
}

/* q[0], a response without its request, as an exchange with a GET request made from its
 * WARC-Target-URI: 1 = done (x set, q[0] taken), 0 = no usable URI (q[0] left to drop), < 0 = error. */
static int rebuild_request(capreader *r, exchange *x)
{
    cr_pend *h = &r->q[0];
    char uri[2048];
    warc_strip_brackets(h->uri, uri, sizeof uri);
    const char *auth = strstr(uri, "://");
    if (!auth || !auth[3] || strpbrk(uri, " \t\r\n"))
        return 0;
    auth += 3;
    size_t alen = strcspn(auth, "/?#");
    const char *path = auth + alen;
    size_t plen = strcspn(path, "#");
    if (alen == 0)
        return 0;
    warc_record req = {0};
    char *block = NULL;
    int n = asprintf(&block, "GET %s%.*s HTTP/1.1\r\nHost: %.*s\r\n\r\n", *path == '/' ? "" : "/", (int)plen, path,
                     (int)alen, auth);
    if (n < 0)
        return cr_fail(r, CAPREADER_ENOMEM, h->off, "out of memory");
    /* the fields the exchange needs, borrowed from the response */
    warc_field f[3] = {{"WARC-Type", "request", 9}, {"WARC-Target-URI", uri, 15}, {"WARC-Date", "", 9}};
    const char *date = warc_record_get(&h->rec, "WARC-Date");
    f[2].value = (char *)(date ? date : "");
    req.fields = f;
    req.n_fields = date ? 3 : 2;
    req.block = block;
    req.block_len = (size_t)n;
    char err[160];
    int wrc = warc_records_to_exchange(&req, &h->rec, x, err, sizeof err);
    free(block);
    if (wrc == WARC_ENOMEM)
        return cr_fail(r, CAPREADER_ENOMEM, h->off, "out of memory");
    if (wrc != WARC_OK)
        return cr_fail(r, CAPREADER_ECORRUPT, h->off, "%s", err);
    r->skips.rebuilt++;
    drop_at(r, 0);
    return 1;
}

/* Read one more record into the queue. 0 = queued or skipped, 1 = end of input (or an error, kept
 * in r->q_err until the queue is empty). */
static int pull(capreader *r)
{
    warc_record rec;
    int rc = capreader_next_record(r, &rec);
    if (rc <= 0) {
        r->q_eof = 1;
        if (rc < 0) {
            r->q_err = rc; /* the exchanges read before it go out first */
            r->status = 0;
        }
        return 1;
    }
    int is_req = 0;
    if (!keep_record(r, &rec, &is_req)) {
        warc_record_clear(&rec);
        return 0;
    }
    if (!r->q && !(r->q = calloc(CR_LOOKAHEAD, sizeof *r->q))) {
        warc_record_clear(&rec);
        cr_fail(r, CAPREADER_ENOMEM, r->offset, "out of memory");
        r->q_eof = 1;
        r->q_err = CAPREADER_ENOMEM;
        r->status = 0;
        return 1;
    }
    cr_pend *p = &r->q[r->q_len++];
    memset(p, 0, sizeof *p);
    p->rec = rec;
    p->is_req = is_req;
    p->off = r->last_off;
    p->has_error = is_req && warc_record_get(&p->rec, "WARC-Tapedeck-Error") != NULL;
    p->role = is_req ? -1 : warc_record_role(&p->rec);
    p->uri = warc_record_get(&p->rec, "WARC-Target-URI");
    const char *role = is_req ? NULL : warc_record_get(&p->rec, "WARC-Tapedeck-Role");
    p->shadow = role && strcasecmp(role, "primary") != 0;
    warc_strip_brackets(warc_record_get(&p->rec, "WARC-Record-ID"), p->id, sizeof p->id);
    warc_strip_brackets(warc_record_get(&p->rec, "WARC-Concurrent-To"), p->to, sizeof p->to);
    p->bytes = p->rec.block_len;
    r->q_bytes += p->bytes;
    return 0;
}

int capreader_next(capreader *r, exchange *x)
{
    exchange_init(x);
    if (r->status)
        return r->status;
    for (;;) {
        if (r->q_len) {
            cr_pend *h = &r->q[0];
            size_t j = 0;
            for (size_t i = 1; i < r->q_len && !j; i++)
                if (partners(h, &r->q[i], i == 1))
                    j = i;
            if (j)
                return emit(r, j, x);
            int full = r->q_len >= CR_LOOKAHEAD || r->q_bytes >= r->q_bytes_max;
            /* A request that says its upstream failed needs no partner. */
            if (h->is_req && (h->has_error || full || r->q_eof))
                return emit(r, 0, x);
            if (!h->is_req && (h->shadow || was_handed_out(r, h->to))) {
                r->skips.extras++;
                drop_at(r, 0);
                continue;
            }
            if (!h->is_req && (full || r->q_eof)) {
                /* A response whose request is not in the file (crawlers that write responses only):
                 * the request is rebuilt as a GET of WARC-Target-URI, so the exchange can be listed
                 * and replayed. Without a URI it is dropped. */
                int rc = rebuild_request(r, x);
                if (rc != 0)
                    return rc;
                r->skips.orphans++;
                drop_at(r, 0);
                continue;
            }
        }
        if (r->q_eof) {
            if (r->q_len)
                continue;
            if (r->q_err) {
                r->status = r->q_err;
                return r->status;
            }
            return 0;
        }
        pull(r);
    }
}

void capreader_skips_add(capreader_skips *to, const capreader_skips *from)
{
    to->warcinfo += from->warcinfo;
    to->metadata += from->metadata;
    to->resource += from->resource;
    to->revisit += from->revisit;
    to->conversion += from->conversion;
    to->other += from->other;
    to->not_http += from->not_http;
    to->orphans += from->orphans;
    to->rebuilt += from->rebuilt;
    to->extras += from->extras;
}

void capreader_skipped(const capreader *r, capreader_skips *out)
{
    capreader_skips_add(out, &r->skips);
}

char *capreader_skips_describe(const capreader_skips *k, char *buf, size_t bufsz)
{
    const struct {
        uint64_t n;
        const char *what;
    } parts[] = {{k->metadata, "metadata"},
                 {k->resource, "resource"},
                 {k->revisit, "revisit"},
                 {k->conversion, "conversion"},
                 {k->other, "of other types"},
                 {k->not_http, "not HTTP (dns:, whois:, ...)"},
                 {k->orphans, "responses without their request and without a URI"},
                 {k->extras, "more responses to a request already paired"}};
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++) {
        if (!parts[i].n)
            continue;
        int w = snprintf(buf + o, bufsz - o, "%s%llu %s", o ? ", " : "", (unsigned long long)parts[i].n, parts[i].what);
        if (w < 0 || (size_t)w >= bufsz - o)
            break;
        o += (size_t)w;
    }
    return buf;
}
