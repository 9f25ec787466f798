# Install rules and the CMake package: find_package(cnpgi CONFIG) gives the
# targets cnpgi::cnpgi (SDK) and cnpgi::protocol (generated CNPG-I code),
# and the function cnpgi_link_statically() (CnpgiStaticLink.cmake).
include(CMakePackageConfigHelpers)

# Two install components, one per Debian package (CnpgiPackaging.cmake):
# `conformance` is the checker's binary, `dev` everything else.
set(CMAKE_INSTALL_DEFAULT_COMPONENT_NAME dev)

set(CNPGI_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/cnpgi"
    CACHE STRING "Where the cnpgi CMake package files are installed")

install(TARGETS ${CNPGI_EXPORTED_TARGETS}
  EXPORT cnpgiTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT conformance
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/cnpgi"
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")
install(DIRECTORY "${PROJECT_BINARY_DIR}/include/cnpgi"
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")
install(DIRECTORY "${CNPGI_GENERATED_DIR}/cnpgi"
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.pb.h")
# The .proto files travel with the package so that plugin authors can point
# other tools (grpcurl, linters) at exactly what the SDK was built from.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/proto/cnpgi"
  DESTINATION ${CMAKE_INSTALL_DATADIR}/cnpgi/proto
  FILES_MATCHING PATTERN "*.proto")

install(EXPORT cnpgiTargets
  NAMESPACE cnpgi::
  DESTINATION ${CNPGI_INSTALL_CMAKEDIR})

configure_package_config_file(
  "${PROJECT_SOURCE_DIR}/cmake/cnpgiConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/cnpgiConfig.cmake"
  INSTALL_DESTINATION ${CNPGI_INSTALL_CMAKEDIR})
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/cnpgiConfigVersion.cmake"
  VERSION ${PROJECT_VERSION}
  # 0.x releases may break the API between minor versions.
  COMPATIBILITY SameMinorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/cnpgiConfig.cmake"
  "${PROJECT_BINARY_DIR}/cnpgiConfigVersion.cmake"
  "${PROJECT_SOURCE_DIR}/cmake/CnpgiStaticLink.cmake"
  DESTINATION ${CNPGI_INSTALL_CMAKEDIR})

# pkg-config files, for projects built without CMake (plain make, Meson).
# Their prefix is computed from their own location (${pcfiledir}), so that
# `cmake --install --prefix <anywhere>` and the .deb give working files.
file(RELATIVE_PATH CNPGI_PC_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
foreach(pc cnpgi cnpgi-testing)
  configure_file("${PROJECT_SOURCE_DIR}/cmake/${pc}.pc.in" "${PROJECT_BINARY_DIR}/${pc}.pc" @ONLY)
  install(FILES "${PROJECT_BINARY_DIR}/${pc}.pc" DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endforeach()

# Not when embedded with add_subdirectory(): the packaging is the parent's.
if(PROJECT_IS_TOP_LEVEL)
  include(CnpgiPackaging)
endif()
