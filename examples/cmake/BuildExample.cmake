# ctest driver: configures and builds one example project against the
# installed SDK only (no package registry, no build tree of the SDK), with
# its tests enabled.
cmake_minimum_required(VERSION 3.25)
foreach(var SOURCE_DIR BINARY_DIR PREFIX CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "BuildExample.cmake: ${var} is not set")
  endif()
endforeach()
if(NOT BUILD_TYPE)
  set(BUILD_TYPE RelWithDebInfo)
endif()

set(configure
  ${CMAKE_COMMAND} -S "${SOURCE_DIR}" -B "${BINARY_DIR}"
  -DCMAKE_PREFIX_PATH=${PREFIX}
  -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
  -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
  -DCMAKE_BUILD_TYPE=${BUILD_TYPE}
  -DBUILD_TESTING=ON)
# EXTRA_ARGS: further -D options, separated by '|' (e.g. static linking, as
# the examples' Dockerfiles build them).
if(EXTRA_ARGS)
  string(REPLACE "|" ";" extra "${EXTRA_ARGS}")
  list(APPEND configure ${extra})
endif()
if(CMAKE_CXX_COMPILER_LAUNCHER)
  list(APPEND configure -DCMAKE_CXX_COMPILER_LAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER})
endif()

function(run step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${step} of ${SOURCE_DIR} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${step} of ${SOURCE_DIR}: ok")
endfunction()

run(configure ${configure})
run(build ${CMAKE_COMMAND} --build "${BINARY_DIR}" --parallel 2)
