# Debian packages, made with CPack from the install rules (CnpgiInstall.cmake):
#   cpack --config <build>/CPackConfig.cmake -B <dir>
# gives
#   libcnpgi-dev       headers, the static libraries (SDK and test kit), the
#                      CMake package (with cnpgi_link_statically) and the
#                      pkg-config files; depends on Debian's -dev packages of
#                      everything the SDK's headers and archives use;
#   cnpgi-conformance  the checker, with its shared-library dependencies
#                      computed by dpkg-shlibdeps.
# tests/shipping installs both into a fresh debian:12 container and builds
# hello-world against them.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME cnpgi)
set(CPACK_PACKAGE_VENDOR "cnpgi-cpp")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL dev conformance)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "cnpgi-cpp developers <cnpgi-cpp@example.invalid>")

set(CPACK_DEBIAN_DEV_PACKAGE_NAME libcnpgi-dev)
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "C++ SDK for CloudNativePG Interface (CNPG-I) plugins: development files\n\
Headers, static libraries, CMake package and pkg-config files of cnpgi-cpp,\n\
with its test kit (cnpgi::testing, cnpgi-testing.pc).")
# What the installed headers include and the archives link: the packages
# that provide the CMake and pkg-config files cnpgiConfig.cmake and cnpgi.pc
# look for. The CMake package names the checker among its targets, so it
# comes along.
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "libgrpc++-dev, libprotobuf-dev, protobuf-compiler-grpc, libabsl-dev, libspdlog-dev, \
nlohmann-json3-dev, libssl-dev, cnpgi-conformance (= ${PROJECT_VERSION}-1)")
# cnpgi_link_statically() links jemalloc in when its archive is there.
set(CPACK_DEBIAN_DEV_PACKAGE_RECOMMENDS "libjemalloc-dev")
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)

set(CPACK_DEBIAN_CONFORMANCE_PACKAGE_NAME cnpgi-conformance)
set(CPACK_COMPONENT_CONFORMANCE_DESCRIPTION
    "Conformance checker for CloudNativePG Interface (CNPG-I) plugins\n\
cnpgi-conformance calls a running plugin (Unix socket or mutual TLS) the way\n\
the CloudNativePG operator does and reports what the operator would reject.")
set(CPACK_DEBIAN_CONFORMANCE_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_CONFORMANCE_PACKAGE_SECTION devel)

include(CPack)
