# Services, dispatch and PluginServer (paths relative to src/).
target_sources(cnpgi PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/call_context.cc
  ${CMAKE_CURRENT_LIST_DIR}/call_runner.cc
  ${CMAKE_CURRENT_LIST_DIR}/capabilities.cc
  ${CMAKE_CURRENT_LIST_DIR}/elastic_thread_pool.cc
  ${CMAKE_CURRENT_LIST_DIR}/grpc_internals.cc
  ${CMAKE_CURRENT_LIST_DIR}/grpc_log.cc
  ${CMAKE_CURRENT_LIST_DIR}/idle_memory.cc
  ${CMAKE_CURRENT_LIST_DIR}/metadata.cc
  ${CMAKE_CURRENT_LIST_DIR}/plugin_server.cc
  ${CMAKE_CURRENT_LIST_DIR}/service_adapters.cc
  ${CMAKE_CURRENT_LIST_DIR}/service_defaults.cc
  ${CMAKE_CURRENT_LIST_DIR}/unix_socket.cc)
target_include_directories(cnpgi PRIVATE "${CMAKE_CURRENT_LIST_DIR}/..")
target_link_libraries(cnpgi
  PUBLIC gRPC::grpc++ absl::any_invocable absl::strings
  PRIVATE gRPC::grpc++_reflection absl::synchronization)
