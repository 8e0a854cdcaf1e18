/*
 * version.c: which release this build is, and which sync protocol it
 * speaks, for `--version`, the logs of both sides and programs that check
 * the library they run with.
 *
 * The release is spotcheck.h's SC_VERSION_MAJOR/MINOR/PATCH, the one place
 * it is written: CMakeLists.txt reads the project's version from there too.
 */
#include "spotcheck.h"

#define SC_STR_(x) #x
#define SC_STR(x) SC_STR_(x)

const char *sc_version(void)
{
    return SC_STR(SC_VERSION_MAJOR) "." SC_STR(SC_VERSION_MINOR) "." SC_STR(SC_VERSION_PATCH);
}

unsigned sc_version_number(void)
{
    return SC_VERSION_NUMBER;
}

unsigned sc_protocol_version(void)
{
    return SC_PROTOCOL_VERSION;
}
