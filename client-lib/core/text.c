/*
 * text.c: text as the project checks and shows it (text.h).  Compiled into
 * the core and, alone, into the CLI, which otherwise sees only the public
 * header.
 */
#include "text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The length of the control character at p (before end), or 0 when it is none. */
static size_t control_at(const unsigned char *p, const unsigned char *end)
{
    if (*p < 0x20 || *p == 0x7f)
        return 1;
    if (*p == 0xc2 && p + 1 < end && p[1] >= 0x80 && p[1] <= 0x9f)
        return 2;
    return 0;
}

bool sc_text_has_control(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    for (; p < end; p++)
        if (control_at(p, end))
            return true;
    return false;
}

char *sc_text_for_terminal(const char *s)
{
    size_t len = strlen(s);
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    size_t o = 0;
    while (p < end) {
        size_t n = control_at(p, end);
        if (n) {
            out[o++] = *p == '\n' || *p == '\t' ? ' ' : '?';
            p += n;
            continue;
        }
        /* One character whole when it is valid UTF-8, else its first byte as '?'. */
        size_t k = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3
                                 : (*p & 0xf8) == 0xf0 ? 4 : 0;
        if (k == 0 || (size_t)(end - p) < k || !sc_utf8_valid((const char *)p, k)) {
            out[o++] = '?';
            p++;
            continue;
        }
        memcpy(out + o, p, k);
        o += k;
        p += k;
    }
    out[o] = '\0';
    return out;
}

bool sc_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        if (c == 0)
            return false;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;       /* continuation bytes */
        uint32_t cp;    /* the code point */
        uint32_t least; /* smallest code point that needs this many bytes */
        if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
            least = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
            least = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
            least = 0x10000;
        } else {
            return false; /* a stray continuation byte, or 0xf8..0xff */
        }
        if (len - i < n + 1)
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (p[i + k] & 0x3f);
        }
        /* Overlong forms would give one text two encodings; surrogates and
         * values past U+10FFFF are not characters. */
        if (cp < least || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}
