/*
 * whole.h: a report file written whole or not at all, for the `spotcheck`
 * CLI and syncd (both link screport): the bytes go to PATH.partial, which
 * is renamed to PATH once written and closed, and removed on any failure,
 * so nothing half-written is ever left under the name asked for.
 */
#ifndef SC_REPORT_WHOLE_H
#define SC_REPORT_WHOLE_H

#include <stddef.h>
#include <stdio.h>

/* Write len bytes of text to path: 0, or -1 with *why (static text: strerror's or this module's). */
int sc_write_whole(const char *path, const char *text, size_t len, const char **why);

/*
 * Create path anew for writing, the caller's alone (0600), never through a
 * symbolic link: a stale file or link of that name is removed first (never
 * followed), and the file is made with O_EXCL | O_NOFOLLOW, so a link
 * another user planted in a shared directory (/tmp) is refused, not
 * written through.  NULL with *why on failure.
 */
FILE *sc_create_private(const char *path, const char **why);

#endif
