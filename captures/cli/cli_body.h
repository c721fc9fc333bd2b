/* cli_body: presenting a message body to a person: content-coding undone (gzip, deflate, br), text
 * printed as is, binary summarised. */
#ifndef TAPEDECK_CLI_BODY_H
#define TAPEDECK_CLI_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Decodes a body with the Content-Encoding named by enc ("gzip", "x-gzip", "deflate", "br"; a list is
 * undone right to left). 1 = decoded (*out owned by the caller), 0 = nothing to undo, -1 = not decodable
 * (bad data, an unknown coding, or over max_out bytes). */
int cli_body_decode(const char *enc, const char *in, size_t n, size_t max_out, char **out, size_t *outn);
/* Text: valid UTF-8 without control bytes other than tab, CR, LF, FF. */
bool cli_body_is_text(const char *s, size_t n);
/* Prints the body: text as is (with a final newline), binary as a one-line summary and a hex preview. */
void cli_body_print(FILE *f, const char *s, size_t n);

#endif
