# ctest driver: installs the SDK's build tree into a fresh prefix, the one
# every example is then built against.
cmake_minimum_required(VERSION 3.25)
foreach(var BUILD_DIR PREFIX)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "InstallPrefix.cmake: ${var} is not set")
  endif()
endforeach()
file(REMOVE_RECURSE "${PREFIX}")
execute_process(
  COMMAND ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${PREFIX}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "installing the SDK into ${PREFIX} failed (${rc}):\n${out}\n${err}")
endif()
if(NOT EXISTS "${PREFIX}/lib/cmake/cnpgi/cnpgiConfig.cmake"
   AND NOT EXISTS "${PREFIX}/lib64/cmake/cnpgi/cnpgiConfig.cmake")
  file(GLOB_RECURSE configs "${PREFIX}/*/cnpgiConfig.cmake")
  if(NOT configs)
    message(FATAL_ERROR "no cnpgiConfig.cmake was installed under ${PREFIX}")
  endif()
endif()
message(STATUS "SDK installed into ${PREFIX}")
