# Recording, redaction and per-RPC metrics of the server (paths relative to src/).
target_sources(cnpgi PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/call_json.cc
  ${CMAKE_CURRENT_LIST_DIR}/metrics.cc
  ${CMAKE_CURRENT_LIST_DIR}/recorder.cc
  ${CMAKE_CURRENT_LIST_DIR}/redaction.cc)
