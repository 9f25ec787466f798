# Writes a C++ source embedding the sample objects of tests/data, so that the
# installed cnpgi::testing library needs no data files at run time.
#   cmake -DOUTPUT=<file.cc> -DNAMES=cluster;pod;... -DFILES=<json>;<json>;... -P embed_fixtures.cmake
foreach(var OUTPUT NAMES FILES)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed_fixtures.cmake: ${var} is not set")
  endif()
endforeach()

set(body "// Generated from tests/data by src/testing/embed_fixtures.cmake. Do not edit.\n")
string(APPEND body "#include <string_view>\n\nnamespace cnpgi::test::internal {\n")
list(LENGTH NAMES count)
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
  list(GET NAMES ${i} name)
  list(GET FILES ${i} file)
  file(READ "${file}" hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR size "${hex_length} / 2")
  # One byte per element: no string-literal length limits, no escaping.
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
  string(APPEND body "\nstatic constexpr char k_${name}[] = {\n    ${bytes}'\\0'};\n")
  string(APPEND body "std::string_view Sample_${name}() { return {k_${name}, ${size}}; }\n")
endforeach()
string(APPEND body "\n}  // namespace cnpgi::test::internal\n")

# Only touch the output when it changes, to keep rebuilds minimal.
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" previous)
  if(previous STREQUAL body)
    return()
  endif()
endif()
file(WRITE "${OUTPUT}" "${body}")
