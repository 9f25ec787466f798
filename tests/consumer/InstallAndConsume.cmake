# ctest driver: install the SDK into a fresh prefix, build the consumer project
# against that prefix alone, run it, and check that no path of the build or
# source tree leaked into the installed package files.
foreach(var CNPGI_BUILD_DIR CNPGI_SOURCE_DIR CONSUMER_SOURCE_DIR WORK_DIR CXX_COMPILER)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "InstallAndConsume.cmake: ${var} is not set")
  endif()
endforeach()

set(prefix "${WORK_DIR}/prefix")
set(consumer_build "${WORK_DIR}/consumer-build")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

function(run step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${step} failed (${rc}):\n${out}\n${err}")
  endif()
  message(STATUS "${step}: ok")
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

run("install into ${prefix}" ${CMAKE_COMMAND} --install "${CNPGI_BUILD_DIR}" --prefix "${prefix}")

file(GLOB_RECURSE package_files "${prefix}/lib/cmake/cnpgi/*" "${prefix}/lib/*/cmake/cnpgi/*")
if(NOT package_files)
  message(FATAL_ERROR "no CMake package files were installed under ${prefix}")
endif()
foreach(f IN LISTS package_files)
  file(READ "${f}" content)
  foreach(tree "${CNPGI_BUILD_DIR}" "${CNPGI_SOURCE_DIR}")
    string(FIND "${content}" "${tree}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "installed file ${f} contains the absolute path ${tree}")
    endif()
  endforeach()
endforeach()

set(flags "")
if(SANITIZE)
  # The installed static libraries are instrumented; the consumer must link
  # the sanitizer runtimes too.
  set(flags "-fsanitize=address,undefined")
endif()
run("configure consumer" ${CMAKE_COMMAND} -S "${CONSUMER_SOURCE_DIR}" -B "${consumer_build}"
    -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER}
    "-DCMAKE_CXX_FLAGS=${CXX_FLAGS} ${flags}")
run("build consumer" ${CMAKE_COMMAND} --build "${consumer_build}")
run("run consumer" "${consumer_build}/consumer")
message(STATUS "${last_output}")
run("run consumer_kit" "${consumer_build}/consumer_kit")
message(STATUS "${last_output}")
# The same sources with plain make and pkg-config only (cnpgi.pc,
# cnpgi-testing.pc): no CMake on the consumer's side.
find_program(MAKE_PROGRAM NAMES make gmake REQUIRED)
find_program(PKG_CONFIG_PROGRAM pkg-config REQUIRED)
file(GLOB pc_dirs "${prefix}/lib/pkgconfig" "${prefix}/lib/*/pkgconfig")
if(NOT pc_dirs)
  message(FATAL_ERROR "no pkgconfig directory was installed under ${prefix}/lib")
endif()
list(JOIN pc_dirs ":" pc_path)
set(make_build "${WORK_DIR}/make-build")
run("build consumer with make and pkg-config"
    ${CMAKE_COMMAND} -E env "PKG_CONFIG_PATH=${pc_path}"
    ${MAKE_PROGRAM} -f "${CONSUMER_SOURCE_DIR}/Makefile" "OUT=${make_build}"
    "CXX=${CXX_COMPILER}" "CXXFLAGS=-O1 ${CXX_FLAGS} ${flags}" "PKG_CONFIG=${PKG_CONFIG_PROGRAM}")
run("run consumer (make)" "${make_build}/consumer")
message(STATUS "${last_output}")
run("run consumer_kit (make)" "${make_build}/consumer_kit")
message(STATUS "${last_output}")

run("run the installed cnpgi-conformance" "${prefix}/bin/cnpgi-conformance" --version)
message(STATUS "${last_output}")
