/* cli_body: see cli_body.h. */
#include "cli_body.h"

bool cli_body_is_text(const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned char c = u[i];
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f')
                return false;
            if (c == 0x7f)
                return false;
            i++;
            continue;
        }
        size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc2 ? 2 : 0;
        if (!need || c > 0xf4 || n - i < need)
            return false;
        for (size_t k = 1; k < need; k++)
            if ((u[i + k] & 0xc0) != 0x80)
                return false;
        i += need;
    }
    return true;
}

void cli_body_print(FILE *f, const char *s, size_t n)
{
    if (n == 0) {
        fputs("(empty body)\n", f);
        return;
    }
    if (cli_body_is_text(s, n)) {
        fwrite(s, 1, n, f);
        if (s[n - 1] != '\n')
            fputc('\n', f);
        return;
    }
    fprintf(f, "(binary body, %zu bytes; first bytes:", n);
    for (size_t i = 0; i < n && i < 32; i++)
        fprintf(f, " %02x", (unsigned char)s[i]);
    fputs(n > 32 ? " ...)\n" : ")\n", f);
}
