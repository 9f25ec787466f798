# Sources of the helpers component (paths relative to src/).
#
# The JSON-facing helpers (json, object, views, parameters, sidecar) do not
# include the generated protocol; the *_proto.cc files and the protocol-typed
# helpers (metrics, postgres_configuration) do. tests/fuzz builds the former
# alone.
target_sources(cnpgi PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/backup.cc
  ${CMAKE_CURRENT_LIST_DIR}/cluster.cc
  ${CMAKE_CURRENT_LIST_DIR}/cluster_status.cc
  ${CMAKE_CURRENT_LIST_DIR}/cluster_status_proto.cc
  ${CMAKE_CURRENT_LIST_DIR}/errors.cc
  ${CMAKE_CURRENT_LIST_DIR}/internal.cc
  ${CMAKE_CURRENT_LIST_DIR}/json.cc
  ${CMAKE_CURRENT_LIST_DIR}/metrics.cc
  ${CMAKE_CURRENT_LIST_DIR}/object.cc
  ${CMAKE_CURRENT_LIST_DIR}/parameters.cc
  ${CMAKE_CURRENT_LIST_DIR}/plugin_configuration.cc
  ${CMAKE_CURRENT_LIST_DIR}/pod.cc
  ${CMAKE_CURRENT_LIST_DIR}/postgres_configuration.cc
  ${CMAKE_CURRENT_LIST_DIR}/sidecar.cc
  ${CMAKE_CURRENT_LIST_DIR}/validation.cc
  ${CMAKE_CURRENT_LIST_DIR}/validation_proto.cc
  ${CMAKE_CURRENT_LIST_DIR}/wal.cc)
target_include_directories(cnpgi PRIVATE "${CMAKE_CURRENT_LIST_DIR}/..")
target_link_libraries(cnpgi PUBLIC absl::strings absl::time)
