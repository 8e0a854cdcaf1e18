# Installing: where things go, and the files that name installed paths.
#
# spotcheck.pc and the systemd unit name the directories they point at
# (includedir, ExecStart=), and the prefix is known for sure only when the
# tree is installed: `cmake --install build --prefix P` overrides the
# configured one, and CPack stages its /usr install under a temp dir.  So
# these files are configured at install time, from the prefix of that
# install, and every installed tree points inside itself.

# Install components, one per Debian package (cmake/ScPackage.cmake).
#   syncd  the server, its unit, configuration, examples and docs
#   lib    libspotcheck.so.N
#   dev    spotcheck.h, libspotcheck.a, libspotcheck.so, spotcheck.pc
#   cli    the spotcheck command
set(CMAKE_INSTALL_DEFAULT_COMPONENT_NAME syncd)

set(SC_DATA_DIR /var/lib/spotcheck CACHE PATH
    "syncd's data directory, as the installed unit and the packages name it")
set(SC_SERVICE_USER spotcheck CACHE STRING "The system user the installed unit runs syncd as")
set(SC_SYSTEMD_UNITDIR lib/systemd/system CACHE STRING
    "Where the systemd unit is installed: under the prefix unless absolute")

# An installed spotcheck finds libspotcheck.so through an $ORIGIN-relative
# run path when the library directory is not one the loader searches
# anyway (a /usr install, as the packages are, gets none).
list(FIND CMAKE_C_IMPLICIT_LINK_DIRECTORIES "${CMAKE_INSTALL_FULL_LIBDIR}" sc_libdir_implicit)
if(sc_libdir_implicit EQUAL -1 AND NOT IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}"
   AND NOT IS_ABSOLUTE "${CMAKE_INSTALL_BINDIR}")
  file(RELATIVE_PATH sc_bin_to_lib "/p/${CMAKE_INSTALL_BINDIR}" "/p/${CMAKE_INSTALL_LIBDIR}")
  set(SC_INSTALL_RPATH "$ORIGIN/${sc_bin_to_lib}")
else()
  set(SC_INSTALL_RPATH "")
endif()

configure_file(${CMAKE_CURRENT_LIST_DIR}/sc_install_paths.cmake.in
               ${CMAKE_BINARY_DIR}/sc_install_paths.cmake @ONLY)

# sc_install_configured(TEMPLATE DEST NAME COMPONENT [KEEP]): at install
# time, configure TEMPLATE (@ONLY; the @SC_...@ variables of
# cmake/sc_install_paths.cmake.in) and install it as DEST/NAME.  DEST may
# use those variables too ("@SC_FULL_SYSCONFDIR@/spotcheck").  KEEP leaves
# a file already installed there alone: it is the operator's, edited.
function(sc_install_configured template dest name component)
  set(keep FALSE)
  if("KEEP" IN_LIST ARGN)
    set(keep TRUE)
  endif()
  install(CODE "include(\"${CMAKE_BINARY_DIR}/sc_install_paths.cmake\")
sc_install_configured_now(\"${template}\" \"${dest}\" \"${name}\" ${keep})"
          COMPONENT ${component})
endfunction()
