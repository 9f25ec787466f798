# Usage: cmake -P RenameKeywordNamespace.cmake FILE...
# Renames the C++ namespace protoc 3.21 derives from package cnpgi.operator.v1
# (`cnpgi::operator::v1`, invalid because `operator` is a keyword) to
# `cnpgi::operator_::v1`. Why this is safe is explained in CnpgiProtocol.cmake.
# Files without the pattern are left byte-identical (and untouched on disk).

math(EXPR last "${CMAKE_ARGC} - 1")
foreach(i RANGE 3 ${last})
  set(file "${CMAKE_ARGV${i}}")
  file(READ "${file}" content)
  set(original "${content}")
  # Qualified names: ::cnpgi::operator::v1::Foo
  string(REPLACE "cnpgi::operator::" "cnpgi::operator_::" content "${content}")
  # Namespace blocks: protoc opens and closes each component on its own line.
  string(REGEX REPLACE "(\nnamespace cnpgi {\n)namespace operator {" "\\1namespace operator_ {" content "${content}")
  string(REPLACE "}  // namespace operator\n" "}  // namespace operator_\n" content "${content}")
  if(NOT content STREQUAL original)
    file(WRITE "${file}" "${content}")
  endif()
endforeach()
