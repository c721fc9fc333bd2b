/* report_fmt: helpers shared by the report renderers. */
#include "report_fmt.h"

#include <string.h>

const char *report_fmt_str(const json_t *obj, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : dflt;
}

double report_fmt_num(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

json_int_t report_fmt_int(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (json_is_integer(v))
        return json_integer_value(v);
    return json_is_real(v) ? (json_int_t)json_real_value(v) : 0;
}

void report_fmt_escape(FILE *f, const char *s, size_t max)
{
    if (!s)
        return;
    size_t n = strlen(s);
    if (max && n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) /* never split a UTF-8 sequence */
            n--;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default:
            if (c < 0x20 && c != '\t' && c != '\n')
                fputs("\xEF\xBF\xBD", f);
            else
                fputc(c, f);
        }
    }
    if (max && strlen(s) > max)
        fputs("…", f);
}
