/*
 * secretfile.h: small secrets syncd reads from files of their own (the
 * metrics token, the webhooks' signing secrets): one line of printable
 * ASCII without spaces, in a file only its owner may read, like the server
 * key (keyfile.h).
 */
#ifndef SD_SECRETFILE_H
#define SD_SECRETFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

/* A secret's character: printable ASCII without the space. */
bool sd_secret_char(char c);

/*
 * Read the secret at path: min to max characters (sd_secret_char), a final
 * newline allowed, into out (cap > max bytes, NUL-terminated); *len gets
 * its length.  The file must be a regular file that neither group nor
 * others may read or write (SC_ERR_FORBIDDEN, "chmod 600"); messages name
 * it as `what` ("metrics token file").  On any failure out is wiped.
 */
sc_status sd_secret_read(const char *path, const char *what, size_t min, size_t max, char *out,
                         size_t cap, size_t *len, sc_err *err);

#endif
