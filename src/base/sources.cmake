# Sources of the base component (paths relative to src/): what more than
# one component needs (string building, UTF-8 and JSON string escaping, Go's
# booleans and durations, JSON pointers, Prometheus names). It depends on
# the standard library, Abseil and nlohmann only; every component may use
# it. Private: the headers are included as "base/..." from src/.
target_sources(cnpgi PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/go_syntax.cc
  ${CMAKE_CURRENT_LIST_DIR}/json_pointer.cc
  ${CMAKE_CURRENT_LIST_DIR}/json_text.cc
  ${CMAKE_CURRENT_LIST_DIR}/prometheus_names.cc
  ${CMAKE_CURRENT_LIST_DIR}/strings.cc)
target_include_directories(cnpgi PRIVATE "$<BUILD_INTERFACE:${CMAKE_CURRENT_LIST_DIR}/..>")
target_link_libraries(cnpgi PUBLIC absl::status absl::statusor absl::strings absl::time)
