# Server benchmarks: a plugin on cnpgi::PluginServer against the same plugin
# on bare gRPC, both as separate processes, plus their statically linked
# builds (cmake/CnpgiStaticLink.cmake). `cmake --build <dir> --target
# server_bench` builds everything; run `<dir>/bench/server_bench [--quick]`.
include(CnpgiStaticLink)

# What the server benchmarks share: statistics, processes, the load client.
add_library(cnpgi_bench_support STATIC support/bench_support.cc)
target_include_directories(cnpgi_bench_support PUBLIC "${CMAKE_CURRENT_SOURCE_DIR}")
target_link_libraries(cnpgi_bench_support PUBLIC gRPC::grpc++)
cnpgi_strict_warnings(cnpgi_bench_support)

function(cnpgi_server_bench_executable name source)
  add_executable(${name} ${source})
  target_include_directories(${name} PRIVATE "${CMAKE_CURRENT_SOURCE_DIR}")
  target_link_libraries(${name} PRIVATE ${ARGN})
  cnpgi_strict_warnings(${name})
endfunction()

foreach(suffix "" "_static")
  cnpgi_server_bench_executable(server_sdk_plugin${suffix} server_sdk_plugin.cc
    cnpgi::cnpgi nlohmann_json::nlohmann_json)
  cnpgi_server_bench_executable(bare_plugin${suffix} bare_plugin.cc
    cnpgi::protocol gRPC::grpc++ nlohmann_json::nlohmann_json)
endforeach()
cnpgi_link_statically(server_sdk_plugin_static)
cnpgi_link_statically(bare_plugin_static)

# The SDK plugin with glibc's malloc rather than the default (jemalloc when
# libjemalloc-dev is there), and with the SDK's JSON helpers (OnMutateCluster)
# with either (go_peer_bench --variant).
cnpgi_server_bench_executable(server_sdk_plugin_static_glibc server_sdk_plugin.cc
  cnpgi::cnpgi nlohmann_json::nlohmann_json)
cnpgi_link_statically(server_sdk_plugin_static_glibc ALLOCATOR glibc)
foreach(allocator "" "glibc")
  set(name server_sdk_helpers_plugin_static)
  set(options "")
  if(allocator)
    string(APPEND name _${allocator})
    set(options ALLOCATOR ${allocator})
  endif()
  cnpgi_server_bench_executable(${name} server_sdk_plugin.cc cnpgi::cnpgi)
  target_compile_definitions(${name} PRIVATE CNPGI_BENCH_SDK_JSON)
  cnpgi_link_statically(${name} ${options})
endforeach()

# MutateCluster through OnMutateCluster and the SDK's JSON helpers.
cnpgi_server_bench_executable(server_sdk_helpers_plugin server_sdk_plugin.cc cnpgi::cnpgi)
target_compile_definitions(server_sdk_helpers_plugin PRIVATE CNPGI_BENCH_SDK_JSON)

# Two other builds of the SDK plugin, for the start-up and memory figures:
# position-dependent (NO_PIE), and with the C++ runtime, spdlog and fmt
# left shared.
cnpgi_server_bench_executable(server_sdk_plugin_static_nopie server_sdk_plugin.cc
  cnpgi::cnpgi nlohmann_json::nlohmann_json)
cnpgi_link_statically(server_sdk_plugin_static_nopie NO_PIE)
cnpgi_server_bench_executable(server_sdk_plugin_static_sharedrt server_sdk_plugin.cc
  cnpgi::cnpgi nlohmann_json::nlohmann_json)
cnpgi_link_statically(server_sdk_plugin_static_sharedrt SHARED_CXX_RUNTIME KEEP_DYNAMIC spdlog fmt)

# The bare server with gRPC's health service and reflection enabled, as the
# SDK has them: tells their cost apart from the SDK's own.
cnpgi_server_bench_executable(bare_plugin_hr bare_plugin.cc
  cnpgi::protocol gRPC::grpc++ gRPC::grpc++_reflection nlohmann_json::nlohmann_json)
target_compile_definitions(bare_plugin_hr PRIVATE CNPGI_BENCH_HEALTH_REFLECTION)

# The per-segment client is linked statically too, so that its own start-up
# adds as little noise as possible to the WAL path.
cnpgi_server_bench_executable(server_wal_client server_wal_client.cc cnpgi::protocol gRPC::grpc++)
cnpgi_link_statically(server_wal_client)

cnpgi_server_bench_executable(server_bench server_bench.cc
  cnpgi::protocol gRPC::grpc++ nlohmann_json::nlohmann_json cnpgi_bench_support)
target_compile_definitions(server_bench PRIVATE
  CNPGI_BENCH_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_dependencies(server_bench
  server_sdk_plugin server_sdk_helpers_plugin server_sdk_plugin_static
  server_sdk_plugin_static_nopie
  server_sdk_plugin_static_sharedrt
  bare_plugin bare_plugin_static bare_plugin_hr server_wal_client)

# Hardening probes (descriptor exhaustion, SIGTERM under load, log floods,
# idle connections) against server_sdk_plugin: docs/benchmarks.md.
cnpgi_server_bench_executable(hardening_probe hardening_probe.cc
  cnpgi::protocol gRPC::grpc++ absl::status cnpgi_bench_support)
target_compile_definitions(hardening_probe PRIVATE
  CNPGI_BENCH_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_dependencies(hardening_probe server_sdk_plugin)

# The SDK against the same plugin written in Go (go-peer, built at run time
# from ../shared/perf/go-peer with Debian's Go): docs/benchmarks.md,
# "Against Go".
cnpgi_server_bench_executable(go_peer_bench go_peer_bench.cc
  cnpgi::protocol gRPC::grpc++ nlohmann_json::nlohmann_json cnpgi_bench_support)
target_compile_definitions(go_peer_bench PRIVATE
  CNPGI_BENCH_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_dependencies(go_peer_bench server_sdk_plugin_static)
add_dependencies(go_peer_bench server_sdk_plugin_static_glibc
  server_sdk_helpers_plugin_static server_sdk_helpers_plugin_static_glibc)
