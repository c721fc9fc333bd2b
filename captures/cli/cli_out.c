/* cli_out: see cli_out.h. */
#include "cli_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "capwriter.h"
#include "cli_util.h"

struct cli_out {
    const char *cmd;
    char *path;
    capwriter *w;
    unsigned long long n;
};

cli_out *cli_out_new(const char *cmd, const char *path, const char *const *inputs, size_t n, bool no_dictionary,
                     const char *upstream)
{
    struct stat so;
    if (cli_output_is_input(cmd, path, inputs, n))
        return NULL;
    if (stat(path, &so) == 0) {
        if (S_ISDIR(so.st_mode)) {
            cli_errorf(cmd, "%s: is a folder; -o takes a file name", path);
            return NULL;
        }
    }
    cli_out *o = calloc(1, sizeof *o);
    if (!o || !(o->path = strdup(path))) {
        free(o);
        cli_errorf(cmd, "out of memory");
        return NULL;
    }
    o->cmd = cmd;
    capwriter_opts opts = {0};
    opts.path = path;
    opts.no_dictionary = no_dictionary;
    opts.upstream = upstream;
    char info[64];
    snprintf(info, sizeof info, "x-tapedeck-made-by: tapedeck-capture %s\r\n", cmd);
    opts.info = info;
    char err[1024];
    o->w = capwriter_open(&opts, err, sizeof err);
    if (!o->w) {
        cli_errorf(cmd, "%s", err);
        free(o->path);
        free(o);
        return NULL;
    }
    return o;
}

int cli_out_write(cli_out *o, const exchange *x)
{
    char err[1024];
    if (capwriter_write(o->w, x, err, sizeof err) != CAPWRITER_OK) {
        cli_errorf(o->cmd, "%s: %s", o->path, err);
        return -1;
    }
    o->n++;
    return 0;
}

int cli_out_free(cli_out *o, bool ok)
{
    if (!o)
        return 0;
    char err[1024];
    int rc = 0;
    if (capwriter_close(o->w, err, sizeof err) != CAPWRITER_OK) {
        cli_errorf(o->cmd, "%s: %s", o->path, err);
        rc = -1;
    }
    if (!ok || rc)
        unlink(o->path); /* half a capture would look like a whole one to the next tool */
    free(o->path);
    free(o);
    return rc;
}

unsigned long long cli_out_count(const cli_out *o)
{
    return o->n;
}
