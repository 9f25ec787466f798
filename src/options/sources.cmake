# Sources of the options component (paths relative to src/).
target_sources(cnpgi PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/log_throttle.cc
  ${CMAKE_CURRENT_LIST_DIR}/server_options.cc
  ${CMAKE_CURRENT_LIST_DIR}/logging.cc)
# absl::Span and absl::string_view appear in the public headers.
target_link_libraries(cnpgi PUBLIC absl::span absl::strings)
