/*
 * keyfile.h: the server key file, DIR/server.key.  It holds the core key
 * file format (keys.h), plain, because syncd must start unattended; the
 * file's mode is its protection, so a file that group or others may read
 * or write is refused before a byte of it is read.
 */
#ifndef SD_KEYFILE_H
#define SD_KEYFILE_H

#include "core/env.h"
#include "core/keys.h"
#include "core/status.h"

/*
 * Write kp to path, created with mode 0600 (O_EXCL: an existing file is
 * refused with SC_ERR_EXISTS), and fsync it.
 */
sc_status sd_keyfile_write(const sc_env *env, const char *path, const sc_keypair *kp, sc_err *err);

/*
 * Read the key at path.  SC_ERR_FORBIDDEN when the file is readable or
 * writable by group or others ("server key file PATH is readable by others:
 * chmod 600 it"), SC_ERR_NOT_FOUND when missing, SC_ERR_MALFORMED when it
 * is not a plain key file.  *out is freed with sc_keypair_free.
 */
sc_status sd_keyfile_read(const char *path, sc_keypair **out, sc_err *err);

#endif
