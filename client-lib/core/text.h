/*
 * text.h: text as the project checks and shows it: UTF-8 validity, and
 * what of a text a terminal would act on rather than show.
 */
#ifndef SC_TEXT_H
#define SC_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* True when the len bytes are valid UTF-8 without NUL bytes. */
bool sc_utf8_valid(const char *s, size_t len);

/*
 * Whether the len bytes hold a character a terminal acts on instead of
 * showing it: a C0 control (newline and tab included), DEL, or a C1
 * control (U+0080..U+009F, as UTF-8).  Such text may forge lines, or
 * colour, retitle or script the terminal of whoever prints it.
 */
bool sc_text_has_control(const char *s, size_t len);

/*
 * s as a terminal may show it, in a new string (malloc; NULL when out of
 * memory): newlines and tabs become spaces, every other control of
 * sc_text_has_control, and every byte that is not UTF-8, a '?'.
 */
char *sc_text_for_terminal(const char *s);

#endif
