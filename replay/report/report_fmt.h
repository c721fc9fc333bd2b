/* report_fmt: small readers and escapers the report renderers share (text, JUnit, HTML). */
#ifndef TAPEDECK_REPORT_FMT_H
#define TAPEDECK_REPORT_FMT_H

#include <stdio.h>
#include <jansson.h>

/* Value of key in obj, or dflt when it is missing or of another type. Borrowed. */
const char *report_fmt_str(const json_t *obj, const char *key, const char *dflt);
double report_fmt_num(const json_t *obj, const char *key); /* integer or real; 0 when missing */
json_int_t report_fmt_int(const json_t *obj, const char *key);
/* Writes s escaped for XML/HTML text and attribute values (& < > " '); control characters other than
 * tab/newline become U+FFFD so the document stays well-formed. At most max bytes of s (0 = all). */
void report_fmt_escape(FILE *f, const char *s, size_t max);

#endif
