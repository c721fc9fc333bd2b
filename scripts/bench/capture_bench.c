/* capture_bench: writer throughput and size on realistic JSON API traffic. Built and run by
 * scripts/bench/capture (which also does the gzip and whole-stream zstd comparisons).
 *
 * Usage: capture_bench OUTDIR N [LEVEL DICT_KB]
 * Generates N exchanges deterministically (a MyDriving-like API: trips, trip points, POIs, profiles; ids,
 * timestamps and values vary, headers repeat as real clients and servers repeat them), writes them with
 * capwriter into OUTDIR/dict.warc.zst (per-segment dictionary) and OUTDIR/plain.warc.zst (no dictionary),
 * timing each on this one thread (best of 3), and writes OUTDIR/goreplay.gor: the same exchanges as a
 * GoReplay text stream. Prints key=value lines. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "capwriter.h"
#include "exchange.h"
#include "tdbuf.h"

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}
static int rndi(int lo, int hi)
{
    return lo + (int)(rnd() % (uint64_t)(hi - lo + 1));
}

/* Entities (trips, users) read again return the same representation, as a real API's do: their fields
 * come from a generator seeded by the entity's id, not from the traffic's. */
static uint64_t ent = 1;
static void entity(uint64_t id)
{
    ent = id * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
}
static int erndi(int lo, int hi)
{
    ent ^= ent << 13;
    ent ^= ent >> 7;
    ent ^= ent << 17;
    return lo + (int)(ent % (uint64_t)(hi - lo + 1));
}

/* BENCH_TRAFFIC=uniform: sensor values drawn independently (the first version of this generator). The
 * default draws them as real telemetry looks: GPS traces move a few metres per fix, speed and RPM drift. */
static int uniform_traffic;
static int clampi(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Popularity is skewed: most reads go to a small hot set (recent trips, active users). */
static int pick(int hot, int all)
{
    return rndi(0, 99) < 80 ? rndi(0, hot - 1) : rndi(0, all - 1);
}

static const char *const AGENTS[] = {"MyDriving/2.3.1 (iPhone; iOS 17.4; Scale/3.00)",
                                     "MyDriving/2.3.0 (Android 14; Pixel 7)", "okhttp/4.12.0"};
static const char *const CITIES[] = {"Seattle", "Redmond", "Bellevue", "Kirkland", "Tacoma"};
static const char *const POIS[] = {"HardBrake", "HardAcceleration", "Speeding", "Fuel", "Parking"};

static void http_date(int64_t us, char *buf, size_t n)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

static void iso(int64_t us, char *buf, size_t n)
{
    time_t t = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&t, &tm);
    size_t k = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + k, n - k, ".%03dZ", (int)(us / 1000 % 1000));
}

static void uuid(char *buf)
{
    uint64_t a = rnd(), b = rnd();
    snprintf(buf, 37, "%08x-%04x-4%03x-%04x-%012" PRIx64, (unsigned)(a >> 32), (unsigned)(a >> 16) & 0xffff,
             (unsigned)a & 0xfff, (unsigned)(b >> 48 & 0x3fff) | 0x8000, (uint64_t)(b & 0xffffffffffffull));
}

/* One exchange of the generated traffic. */
static int make_exchange(exchange *x, int i, int64_t now)
{
    tdbuf body, req, resp;
    tdbuf_init(&body, 0);
    tdbuf_init(&req, 0);
    tdbuf_init(&resp, 0);
    int user = 1 + pick(40, 400), trip = 10000 + pick(300, 5000), rc = 0, status = 200;
    char rid[40], date[64], ts[40], tok[80];
    uuid(rid);
    http_date(now, date, sizeof date);
    snprintf(tok, sizeof tok, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c2VyJWQifQ.%016" PRIx64, (uint64_t)user * 0x9E3779B9u);
    const char *method = "GET", *ctype = NULL;
    char path[256];
    int kind = rndi(0, 99);
    tdbuf reqbody;
    tdbuf_init(&reqbody, 0);
    if (kind < 35) { /* a trip with its points */
        snprintf(path, sizeof path, "/api/trips/%d", trip);
        entity((uint64_t)trip);
        iso(1767225600000000LL - (int64_t)erndi(0, 999999) * 1000000, ts, sizeof ts);
        rc |= tdbuf_printf(&body, "{\"id\":%d,\"userId\":\"user%d\",\"name\":\"Trip to %s\",\"recordedTimeStamp\":\"%s\","
                                  "\"distance\":%d.%02d,\"rating\":%d,\"isComplete\":true,\"points\":[",
                           trip, erndi(1, 400), CITIES[trip % 5], ts, erndi(1, 90), erndi(0, 99), erndi(60, 100));
        int np = erndi(3, 8);
        /* A trace: consecutive GPS fixes a few metres apart, speed and RPM drifting, fuel all but constant
         * (uniform mode: every value drawn afresh, the old, noisier traffic). */
        int lat = erndi(0, 999999), lon = erndi(0, 999999), speed = erndi(0, 120), rpm = erndi(700, 4000),
            fuel = erndi(5, 99);
        for (int k = 0; k < np; k++) {
            if (uniform_traffic) {
                lat = erndi(0, 999999), lon = erndi(0, 999999), speed = erndi(0, 120), rpm = erndi(700, 4000),
                fuel = erndi(5, 99);
            } else if (k) {
                lat = clampi(lat + erndi(-300, 300), 0, 999999), lon = clampi(lon + erndi(-300, 300), 0, 999999);
                speed = clampi(speed + erndi(-6, 6), 0, 120), rpm = clampi(rpm + erndi(-250, 250), 700, 4000);
            }
            rc |= tdbuf_printf(&body, "%s{\"sequence\":%d,\"latitude\":47.%06d,\"longitude\":-122.%06d,"
                                      "\"speed\":%d.%d,\"engineRPM\":%d,\"fuelLevel\":%d.%d}",
                               k ? "," : "", k, lat, lon, speed, erndi(0, 9), rpm, fuel, uniform_traffic ? erndi(0, 9) : 0);
        }
        rc |= tdbuf_puts(&body, "]}");
    } else if (kind < 55) { /* a page of the user's trips */
        snprintf(path, sizeof path, "/api/trips?userId=user%d&skip=%d&take=10", user, rndi(0, 5) * 10);
        rc |= tdbuf_puts(&body, "[");
        for (int k = 0; k < 5; k++) {
            entity((uint64_t)(trip - k));
            iso(1767225600000000LL - (int64_t)erndi(0, 999999) * 1000000, ts, sizeof ts);
            rc |= tdbuf_printf(&body, "%s{\"id\":%d,\"name\":\"Trip to %s\",\"recordedTimeStamp\":\"%s\",\"distance\":%d.%02d,"
                                      "\"rating\":%d}",
                               k ? "," : "", trip - k, CITIES[(trip - k) % 5], ts, erndi(1, 90), erndi(0, 99),
                               erndi(60, 100));
        }
        rc |= tdbuf_puts(&body, "]");
    } else if (kind < 70) { /* points uploaded during a trip */
        method = "POST";
        ctype = "application/json";
        status = 201;
        snprintf(path, sizeof path, "/api/trips/%d/points", trip);
        rc |= tdbuf_puts(&reqbody, "[");
        entity((uint64_t)trip);
        int lat = erndi(0, 999999), lon = erndi(0, 999999), speed = rndi(0, 120);
        lat = clampi(lat + rndi(-20000, 20000), 0, 999999), lon = clampi(lon + rndi(-20000, 20000), 0, 999999);
        for (int k = 0; k < 4; k++) {
            iso(now - (int64_t)(4 - k) * 1000000, ts, sizeof ts);
            if (uniform_traffic)
                lat = rndi(0, 999999), lon = rndi(0, 999999), speed = rndi(0, 120);
            else if (k)
                lat = clampi(lat + rndi(-300, 300), 0, 999999), lon = clampi(lon + rndi(-300, 300), 0, 999999),
                speed = clampi(speed + rndi(-6, 6), 0, 120);
            rc |= tdbuf_printf(&reqbody, "%s{\"tripId\":%d,\"recordedTimeStamp\":\"%s\",\"latitude\":47.%06d,"
                                         "\"longitude\":-122.%06d,\"speed\":%d.%d}",
                               k ? "," : "", trip, ts, lat, lon, speed, rndi(0, 9));
        }
        rc |= tdbuf_puts(&reqbody, "]");
        rc |= tdbuf_printf(&body, "{\"tripId\":%d,\"accepted\":4,\"sequence\":%d}", trip, rndi(10, 900));
    } else if (kind < 85) { /* points of interest near a trip */
        snprintf(path, sizeof path, "/api/poi?tripId=%d", trip);
        rc |= tdbuf_puts(&body, "[");
        entity((uint64_t)trip * 7 + 3);
        for (int k = 0; k < 3; k++)
            rc |= tdbuf_printf(&body, "%s{\"id\":\"%d-%d\",\"tripId\":%d,\"latitude\":47.%06d,\"longitude\":-122.%06d,"
                                      "\"poiType\":\"%s\"}",
                               k ? "," : "", trip, k, trip, erndi(0, 999999), erndi(0, 999999), POIS[erndi(0, 4)]);
        rc |= tdbuf_puts(&body, "]");
    } else if (kind < 95) { /* the user's profile */
        snprintf(path, sizeof path, "/api/user/profile");
        entity((uint64_t)user * 31 + 1);
        rc |= tdbuf_printf(&body, "{\"id\":\"user%d\",\"firstName\":\"Driver\",\"lastName\":\"No%d\",\"totalDistance\":%d.%d,"
                                  "\"totalTrips\":%d,\"rating\":%d,\"hardStops\":%d,\"hardAccelerations\":%d,"
                                  "\"fuelConsumption\":%d.%d}",
                           user, user, erndi(100, 9000), erndi(0, 9), erndi(1, 400), erndi(60, 100), erndi(0, 90),
                           erndi(0, 90), erndi(10, 900), erndi(0, 9));
    } else { /* a trip that is not there */
        snprintf(path, sizeof path, "/api/trips/%d", 90000 + rndi(0, 9999));
        status = 404;
        rc |= tdbuf_puts(&body, "{\"error\":\"not found\"}");
    }
    rc |= tdbuf_printf(&req, "%s %s HTTP/1.1\r\nHost: api.mydriving.test\r\nUser-Agent: %s\r\nAccept: application/json\r\n"
                             "Accept-Encoding: gzip, deflate\r\nAuthorization: Bearer %s\r\nX-Request-Id: %s\r\n",
                       method, path, AGENTS[user % 3], tok, rid);
    if (ctype)
        rc |= tdbuf_printf(&req, "Content-Type: %s\r\nContent-Length: %zu\r\n", ctype, reqbody.len);
    rc |= tdbuf_puts(&req, "\r\n");
    if (reqbody.len)
        rc |= tdbuf_append(&req, reqbody.data, reqbody.len);
    rc |= tdbuf_printf(&resp, "HTTP/1.1 %d %s\r\nServer: nginx/1.22.1\r\nDate: %s\r\nContent-Type: application/json; "
                              "charset=utf-8\r\nContent-Length: %zu\r\nConnection: keep-alive\r\nX-Request-Id: %s\r\n"
                              "Cache-Control: no-cache\r\nStrict-Transport-Security: max-age=31536000\r\n\r\n",
                       status, status == 200 ? "OK" : status == 201 ? "Created" : "Not Found", date, body.len, rid);
    rc |= tdbuf_append(&resp, body.data, body.len);
    exchange_init(x);
    char uri[320];
    snprintf(uri, sizeof uri, "http://api.mydriving.test%s", path);
    x->conn_id = (uint64_t)(i / 20);
    x->conn_seq = (uint64_t)(i % 20);
    x->req_start_us = now;
    x->resp_first_us = now + rndi(2000, 30000);
    x->resp_end_us = x->resp_first_us + rndi(50, 900);
    rc |= exchange_set_str(&x->target_uri, uri) | exchange_set_str(&x->client_addr, "10.0.3.17:51544") |
          exchange_set_buf(&x->request, &x->request_len, req.data, req.len) |
          exchange_set_buf(&x->response, &x->response_len, resp.data, resp.len);
    tdbuf_free(&body);
    tdbuf_free(&req);
    tdbuf_free(&resp);
    tdbuf_free(&reqbody);
    return rc ? -1 : 0;
}

/* CPU time of this thread (user + system, the pwrites included): on a shared machine wall time
 * measures the neighbours; the writer's cost per exchange is what a core's worth of it buys. */
static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Writes xs into path; returns the best wall time of `reps` runs (one thread), stats of the last. */
static double write_all(const char *path, const exchange *xs, int n, int no_dict, int level, size_t dict_kb,
                        int reps, capwriter_stats *st)
{
    double best = 1e9;
    for (int r = 0; r < reps; r++) {
        char err[512];
        capwriter_opts o;
        memset(&o, 0, sizeof o);
        o.path = path;
        o.no_dictionary = no_dict;
        o.level = level;
        o.dict_size = dict_kb * 1024;
        o.upstream = "http://api.mydriving.test";
        o.defer_writes = 1; /* as the proxy's writer: one write per batch of 256 */
        o.no_payload_digest = getenv("NO_DIGEST") != NULL; /* tapedeck-proxy --no-payload-digest */
        remove(path);
        double t0 = now_s();
        capwriter *w = capwriter_open(&o, err, sizeof err);
        if (!w) {
            fprintf(stderr, "capture_bench: %s\n", err);
            exit(2);
        }
        for (int i = 0; i < n; i++) {
            if (capwriter_write(w, &xs[i], err, sizeof err) != 0 ||
                ((i % 256 == 255 || i == n - 1) && capwriter_commit(w, err, sizeof err) != 0)) {
                fprintf(stderr, "capture_bench: %s\n", err);
                exit(2);
            }
        }
        capwriter_get_stats(w, st);
        if (capwriter_close(w, err, sizeof err) != 0) {
            fprintf(stderr, "capture_bench: %s\n", err);
            exit(2);
        }
        double dt = now_s() - t0;
        if (dt < best)
            best = dt;
    }
    return best;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: capture_bench OUTDIR N [LEVEL DICT_KB]\n");
        return 2;
    }
    const char *dir = argv[1];
    int n = atoi(argv[2]), level = argc > 3 ? atoi(argv[3]) : 0;
    size_t dict_kb = argc > 4 ? (size_t)atoi(argv[4]) : 0;
    exchange *xs = calloc((size_t)n, sizeof *xs);
    if (!xs || n <= 0)
        return 2;
    const char *traffic = getenv("BENCH_TRAFFIC");
    uniform_traffic = traffic && !strcmp(traffic, "uniform");
    int64_t t = 1767225600000000LL; /* 2026-01-01 */
    for (int i = 0; i < n; i++) {
        t += rndi(1000, 40000);
        if (make_exchange(&xs[i], i, t) != 0) {
            fprintf(stderr, "capture_bench: out of memory\n");
            return 2;
        }
    }
    char p_dict[1024], p_plain[1024], p_gor[1024];
    snprintf(p_dict, sizeof p_dict, "%s/dict.warc.zst", dir);
    snprintf(p_plain, sizeof p_plain, "%s/plain.warc.zst", dir);
    snprintf(p_gor, sizeof p_gor, "%s/goreplay.gor", dir);
    capwriter_stats sd, sp;
    double td = write_all(p_dict, xs, n, 0, level, dict_kb, 3, &sd);
    double tp = write_all(p_plain, xs, n, 1, level, dict_kb, 3, &sp);

    /* GoReplay text stream: "<type> <id> <timestamp ns> <latency ns>\n<payload>\n🐵🙈🙉\n" */
    FILE *g = fopen(p_gor, "wb");
    if (!g) {
        perror(p_gor);
        return 2;
    }
    uint64_t raw = 0;
    for (int i = 0; i < n; i++) {
        const exchange *x = &xs[i];
        fprintf(g, "1 %024x %" PRId64 "000 0\n", i + 1, x->req_start_us);
        fwrite(x->request, 1, x->request_len, g);
        fprintf(g, "\n\xF0\x9F\x90\xB5\xF0\x9F\x99\x88\xF0\x9F\x99\x89\n");
        fprintf(g, "2 %024x %" PRId64 "000 %" PRId64 "000\n", i + 1, x->resp_first_us,
                x->resp_first_us - x->req_start_us);
        fwrite(x->response, 1, x->response_len, g);
        fprintf(g, "\n\xF0\x9F\x90\xB5\xF0\x9F\x99\x88\xF0\x9F\x99\x89\n");
        raw += x->request_len + x->response_len;
    }
    if (fclose(g) != 0) {
        perror(p_gor);
        return 2;
    }
    printf("exchanges=%d\nhttp_bytes=%" PRIu64 "\nwarc_bytes=%" PRIu64 "\n", n, raw, sd.bytes_in);
    printf("dict_seconds=%.6f\ndict_file_bytes=%" PRIu64 "\n", td, sd.bytes_out);
    printf("plain_seconds=%.6f\nplain_file_bytes=%" PRIu64 "\n", tp, sp.bytes_out);
    for (int i = 0; i < n; i++)
        exchange_clear(&xs[i]);
    free(xs);
    return 0;
}
