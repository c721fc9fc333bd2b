/* cli_body: presenting a message body to a person: text printed as is, binary summarised. Content
 * codings are undone before, by captures/content. */
#ifndef TAPEDECK_CLI_BODY_H
#define TAPEDECK_CLI_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Text: valid UTF-8 without control bytes other than tab, CR, LF, FF. */
bool cli_body_is_text(const char *s, size_t n);
/* Prints the body: text as is (with a final newline), binary as a one-line summary and a hex preview. */
void cli_body_print(FILE *f, const char *s, size_t n);

#endif
