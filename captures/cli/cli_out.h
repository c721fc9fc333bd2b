/* cli_out: the capture a converting command writes (filter, merge, import): one file, written by
 * capwriter in single-file mode, never one of the inputs, removed again when the command fails. */
#ifndef TAPEDECK_CLI_OUT_H
#define TAPEDECK_CLI_OUT_H

#include <stdbool.h>
#include <stddef.h>

#include "exchange.h"

typedef struct cli_out cli_out;

/* Opens path for writing. inputs (n of them, may be NULL) are files the command reads: path must not be
 * one of them (an input would be cut to nothing before it is read). upstream may be NULL. NULL on
 * failure, with the reason printed under cmd's name. */
cli_out *cli_out_new(const char *cmd, const char *path, const char *const *inputs, size_t n, bool no_dictionary,
                     const char *upstream);
/* Appends one exchange; 0, or -1 with the reason printed. */
int cli_out_write(cli_out *o, const exchange *x);
/* Closes the file. ok = false (the command failed) removes it. Returns 0, or -1 when the final flush
 * failed (the file is removed then, too). NULL is a no-op returning 0. Frees o either way. */
int cli_out_free(cli_out *o, bool ok);
/* Exchanges written so far. */
unsigned long long cli_out_count(const cli_out *o);

#endif
