/*
 * version.c: which release this build is, and which sync protocol it
 * speaks, for `--version` and the logs of both sides.
 *
 * SC_VERSION_STRING is the project's version from CMakeLists.txt, set for
 * this file alone so that no other object depends on it.
 */
#include "spotcheck.h"

#ifndef SC_VERSION_STRING
#error "SC_VERSION_STRING must be defined by the build (project VERSION)"
#endif

const char *sc_version(void)
{
    return SC_VERSION_STRING;
}

unsigned sc_protocol_version(void)
{
    return SC_PROTOCOL_VERSION;
}
