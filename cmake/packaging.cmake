# Debian package with CPack: `cpack -G DEB` in a build configured with
# -DCMAKE_INSTALL_PREFIX=/usr (the binary finds its sensor types under
# ${CMAKE_INSTALL_PREFIX}/share/fairgate, so that prefix is the package's too).
# Included at the end of CMakeLists.txt, after the install() rules there for the
# binary, sensors/types and policy/*.yaml.

if(NOT CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  message(STATUS "packaging: CMAKE_INSTALL_PREFIX is ${CMAKE_INSTALL_PREFIX}; a .deb for "
                 "Debian wants -DCMAKE_INSTALL_PREFIX=/usr")
endif()

# ---- what goes in besides the binary and share/fairgate ----------------------------
# Units into /lib/systemd/system (Debian 12), configuration into /etc: absolute
# destinations, hence CPACK_SET_DESTDIR below.
install(FILES ${CMAKE_SOURCE_DIR}/packaging/fairgate.service
              ${CMAKE_SOURCE_DIR}/packaging/fairgate-mosquitto.service
        DESTINATION /lib/systemd/system COMPONENT fairgate)
install(FILES ${CMAKE_SOURCE_DIR}/examples/fairgate.yaml
        DESTINATION /etc/fairgate PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ
        COMPONENT fairgate)
# The local broker's configuration holds no secret and is read by user mosquitto.
install(FILES ${CMAKE_SOURCE_DIR}/packaging/mosquitto.conf
        DESTINATION /etc/fairgate PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ
        COMPONENT fairgate)
install(DIRECTORY DESTINATION /etc/fairgate/mosquitto.d COMPONENT fairgate)

# fairgate inside mosquitto: `plugin /usr/lib/<triplet>/fairgate/fairgate_mosquitto.so`
# (docs/operations.md). Its mosquitto_* symbols come from the broker that loads it.
if(TARGET fairgate_mosquitto)
  if(CMAKE_LIBRARY_ARCHITECTURE)
    set(_plugdir lib/${CMAKE_LIBRARY_ARCHITECTURE}/fairgate)
  else()
    set(_plugdir lib/fairgate)
  endif()
  install(TARGETS fairgate_mosquitto LIBRARY DESTINATION ${_plugdir} COMPONENT fairgate)
endif()

set(_doc share/doc/fairgate)
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${_doc} COMPONENT fairgate)
file(GLOB _docs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/docs/*.md)
install(FILES ${_docs} DESTINATION ${_doc} COMPONENT fairgate)
install(FILES ${CMAKE_SOURCE_DIR}/examples/fairgate.yaml ${CMAKE_SOURCE_DIR}/examples/policy-demo.yaml
        DESTINATION ${_doc}/examples COMPONENT fairgate)
# Decoders built outside fairgate compile against this header (docs/integrators.md);
# the sample decoder shows its use.
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/fairgate DESTINATION include COMPONENT fairgate)
install(FILES ${CMAKE_SOURCE_DIR}/tests/data/decoders/decoder_pipe.c
        DESTINATION ${_doc}/examples COMPONENT fairgate)

# Man page, compressed as Debian policy wants (-n: reproducible).
find_program(GZIP_EXE gzip REQUIRED)
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/fairgate.1.gz
  COMMAND ${GZIP_EXE} -9n -c ${CMAKE_SOURCE_DIR}/docs/fairgate.1 > ${CMAKE_BINARY_DIR}/fairgate.1.gz
  DEPENDS ${CMAKE_SOURCE_DIR}/docs/fairgate.1 VERBATIM)
add_custom_target(fairgate_manpage ALL DEPENDS ${CMAKE_BINARY_DIR}/fairgate.1.gz)
install(FILES ${CMAKE_BINARY_DIR}/fairgate.1.gz DESTINATION share/man/man1 COMPONENT fairgate)

# ---- the package -------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME fairgate)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "fairgate")
set(CPACK_PACKAGE_CONTACT "fairgate maintainers <fairgate@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "privacy-first MQTT gateway for workplace IoT")
string(CONCAT CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "privacy-first MQTT gateway for workplace IoT\n"
    "fairgate runs between the sensors of a factory or depot floor and everything\n"
    "upstream. Nothing leaves the site until a policy signed by the employer and the\n"
    "works council has been applied: identifiers pseudonymised with rotating keys,\n"
    "positions and times coarsened, small groups suppressed, everything audited.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_SET_DESTDIR ON)
set(CPACK_STRIP_FILES ON)
# Library dependencies from the linked .so files (dpkg-shlibdeps): libpaho-mqtt1.3,
# libsodium23, libmbedtls14, libmbedx509-1, libmbedcrypto7, libyaml-0-2, libcjson1,
# libsqlite3-0, libmicrohttpd12, libssl3 on Debian 12. adduser for the postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "mosquitto")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/postinst
    ${CMAKE_SOURCE_DIR}/packaging/prerm
    ${CMAKE_SOURCE_DIR}/packaging/postrm
    ${CMAKE_SOURCE_DIR}/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
