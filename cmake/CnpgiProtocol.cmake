# Compiles proto/ into the library target cnpgi_protocol (exported as
# cnpgi::protocol). Generated sources live only in the build tree.
#
# protoc 3.21 maps package cnpgi.operator.v1 to `namespace cnpgi::operator::v1`,
# which is not valid C++ (`operator` is a keyword). The package name cannot
# change: it is part of every method path on the wire. So after generation the
# C++ namespace component is renamed to `operator_`, the same spelling newer
# protoc releases choose for keyword packages. Only C++ identifiers change:
# the embedded descriptors and method path strings still say
# "cnpgi.operator.v1", as the wire-contract test checks.

set(CNPGI_PROTO_DIR "${PROJECT_SOURCE_DIR}/proto")
set(CNPGI_PROTO_FILES
  cnpgi/identity/v1/identity.proto
  cnpgi/identity/v1/postgres.proto
  cnpgi/operator/v1/operator.proto
  cnpgi/operator_lifecycle/v1/operator_lifecycle.proto
  cnpgi/wal/v1/wal.proto
  cnpgi/wal/v1/restore_job.proto
  cnpgi/backup/v1/backup.proto
  cnpgi/reconciler/v1/reconciler.proto
  cnpgi/metrics/v1/metrics.proto)

set(CNPGI_GENERATED_DIR "${PROJECT_BINARY_DIR}/generated")
set(cnpgi_generated_sources "")
set(cnpgi_generated_headers "")

foreach(proto IN LISTS CNPGI_PROTO_FILES)
  string(REGEX REPLACE "\\.proto$" "" stem "${proto}")
  set(outputs
    "${CNPGI_GENERATED_DIR}/${stem}.pb.cc"
    "${CNPGI_GENERATED_DIR}/${stem}.pb.h"
    "${CNPGI_GENERATED_DIR}/${stem}.grpc.pb.cc"
    "${CNPGI_GENERATED_DIR}/${stem}.grpc.pb.h")
  add_custom_command(
    OUTPUT ${outputs}
    COMMAND ${CMAKE_COMMAND} -E make_directory "${CNPGI_GENERATED_DIR}"
    COMMAND protobuf::protoc
      --proto_path=${CNPGI_PROTO_DIR}
      --cpp_out=${CNPGI_GENERATED_DIR}
      --grpc_out=${CNPGI_GENERATED_DIR}
      --plugin=protoc-gen-grpc=${CNPGI_GRPC_CPP_PLUGIN}
      ${proto}
    COMMAND ${CMAKE_COMMAND} -P "${PROJECT_SOURCE_DIR}/cmake/RenameKeywordNamespace.cmake"
      ${outputs}
    DEPENDS "${CNPGI_PROTO_DIR}/${proto}" "${PROJECT_SOURCE_DIR}/cmake/RenameKeywordNamespace.cmake"
    COMMENT "Generating C++ for ${proto}"
    VERBATIM)
  list(APPEND cnpgi_generated_sources
    "${CNPGI_GENERATED_DIR}/${stem}.pb.cc" "${CNPGI_GENERATED_DIR}/${stem}.grpc.pb.cc")
  list(APPEND cnpgi_generated_headers
    "${CNPGI_GENERATED_DIR}/${stem}.pb.h" "${CNPGI_GENERATED_DIR}/${stem}.grpc.pb.h")
endforeach()

add_library(cnpgi_protocol ${cnpgi_generated_sources} ${cnpgi_generated_headers})
add_library(cnpgi::protocol ALIAS cnpgi_protocol)
set_target_properties(cnpgi_protocol PROPERTIES
  EXPORT_NAME protocol
  OUTPUT_NAME cnpgi_protocol
  POSITION_INDEPENDENT_CODE ON)
target_include_directories(cnpgi_protocol
  # Generated headers are compiled as system headers so that code including
  # them keeps -Werror without inheriting warnings we cannot fix.
  SYSTEM PUBLIC
    "$<BUILD_INTERFACE:${CNPGI_GENERATED_DIR}>"
    "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
target_link_libraries(cnpgi_protocol PUBLIC protobuf::libprotobuf gRPC::grpc++)
target_compile_features(cnpgi_protocol PUBLIC cxx_std_20)
