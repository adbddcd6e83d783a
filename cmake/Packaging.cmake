# The Debian package (scripts/package): CPack DEB with the binary, man pages and completions
# (cmake/ManPages.cmake), /etc/imsmeter/imsmeter.toml as a conffile, the systemd unit, and
# maintainer scripts that create the imsmeter system user and /var/lib/imsmeter, and the
# network module in /usr/lib/<multiarch>/imsmeter/ (src/collector/CMakeLists.txt). Dependencies
# come from the shared libraries the binary and the module link (dpkg-shlibdeps).
include(GNUInstallDirs)

set(IMSM_PKG ${PROJECT_SOURCE_DIR}/packaging)
install(FILES ${IMSM_PKG}/imsmeter.toml DESTINATION /etc/imsmeter)
install(FILES ${IMSM_PKG}/imsmeter-collect.service DESTINATION /lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/docs/collector.md
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "imsmeter")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "imsmeter maintainers <imsmeter@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "IMS Series 1000/2000 electricity submeters: RS485 decoder, simulator and collector")
set(CPACK_PACKAGE_DESCRIPTION
    "imsmeter decodes the one-way RS485 bus of IMS Series 1000/2000 submeters, emulates
fleets of meters, and collects their readings into SQLite for events and bills.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # imsmeter_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_SECTION "utils")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# adduser for the maintainer scripts.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${IMSM_PKG}/debian/conffiles;${IMSM_PKG}/debian/postinst;${IMSM_PKG}/debian/prerm;${IMSM_PKG}/debian/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Only the runtime: no test or benchmark programs, no static libraries.
set(CPACK_STRIP_FILES ON)
include(CPack)
