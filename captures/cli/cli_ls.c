/* cli_ls: one line per exchange. */
#include "cli_ls.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli_util.h"

const char cli_ls_help[] =
    "Usage: tapedeck-capture ls [options] CAPTURE...\n"
    "\n"
    "Lists the exchanges of the captures, one line each, whitespace-separated:\n"
    "  ID  TIME  METHOD  TARGET  STATUS  LATENCY_MS\n"
    "ID is the exchange's number across the capture set (what `show` takes), TIME the start of the\n"
    "request (ISO 8601, UTC, microseconds), TARGET the request target as the client sent it (path and\n"
    "query), STATUS the final response status or '-' when the upstream failed, LATENCY_MS from the\n"
    "request's first byte to the response's last byte ('-' when not recorded).\n"
    "\n"
    "Options:\n"
    "  --json         one JSON object per line instead, with the keys id, time, method, target, route,\n"
    "                 status (null when the upstream failed), latency_ms (null when unknown), conn, seq,\n"
    "                 record_id, request_bytes, response_bytes, interim (list of 1xx codes), truncated\n"
    "                 (list of \"request\"/\"response\"), error (null, or why the upstream failed)\n"
    "  -h, --help     show this help\n"
    "\n"
    "Exit status: 0 done (a cut-off last frame is skipped with a warning); 2 bad arguments or an\n"
    "unreadable or damaged capture.\n";

static void print_text(const exchange *x, const cli_view *v)
{
    char t[48], status[16], lat[32];
    snprintf(status, sizeof status, v->status ? "%d" : "-", v->status);
    snprintf(lat, sizeof lat, v->latency_ms >= 0 ? "%.3f" : "-", v->latency_ms);
    printf("%" PRIu64 " %s %s %s %s %s\n", x->id, cli_iso_time(x->req_start_us, t, sizeof t), v->method,
           v->target[0] ? v->target : "-", status, lat);
}

static void print_json(const exchange *x, const cli_view *v)
{
    char t[48];
    printf("{\"id\":%" PRIu64 ",\"time\":", x->id);
    if (x->req_start_us) {
        cli_iso_time(x->req_start_us, t, sizeof t);
        cli_json_str(stdout, t, strlen(t));
    }
    else
        fputs("null", stdout);
    fputs(",\"method\":", stdout);
    cli_json_str(stdout, v->method, strlen(v->method));
    fputs(",\"target\":", stdout);
    cli_json_str(stdout, v->target, strlen(v->target));
    fputs(",\"route\":", stdout);
    cli_json_str(stdout, v->route, strlen(v->route));
    if (v->status)
        printf(",\"status\":%d", v->status);
    else
        fputs(",\"status\":null", stdout);
    if (v->latency_ms >= 0)
        printf(",\"latency_ms\":%.3f", v->latency_ms);
    else
        fputs(",\"latency_ms\":null", stdout);
    printf(",\"conn\":%" PRIu64 ",\"seq\":%" PRIu64 ",\"record_id\":", x->conn_id, x->conn_seq);
    cli_json_str(stdout, x->record_id, strlen(x->record_id));
    printf(",\"request_bytes\":%zu,\"response_bytes\":%zu,\"interim\":[", x->request_len, x->response_len);
    for (int i = 0; i < x->n_interim; i++)
        printf(i ? ",%d" : "%d", x->interim[i]);
    fputs("],\"truncated\":[", stdout);
    const char *sep = "";
    if (x->truncated & EXCHANGE_TRUNC_REQUEST) {
        fputs("\"request\"", stdout);
        sep = ",";
    }
    if (x->truncated & EXCHANGE_TRUNC_RESPONSE)
        printf("%s\"response\"", sep);
    fputs("],\"error\":", stdout);
    if (x->error)
        cli_json_str(stdout, x->error, strlen(x->error));
    else
        fputs("null", stdout);
    fputs("}\n", stdout);
}

int cli_ls_main(int argc, char **argv)
{
    bool json;
    int rc = cli_switch_opts("ls", cli_ls_help, argc, argv, "json", 0, &json);
    if (rc >= 0)
        return rc;
    capset *s = cli_open_captures("ls", argv + optind, (size_t)(argc - optind));
    if (!s)
        return CLI_EXIT_TROUBLE;
    int r;
    exchange x;
    while ((r = capset_next(s, &x)) == 1) {
        cli_view v;
        cli_view_of(&x, &v);
        if (json)
            print_json(&x, &v);
        else
            print_text(&x, &v);
        exchange_clear(&x);
    }
    rc = cli_capset_end("ls", s, r);
    capset_free(s);
    if (fflush(stdout) != 0) {
        cli_errorf("ls", "writing to standard output failed");
        rc = CLI_EXIT_TROUBLE;
    }
    return rc;
}
