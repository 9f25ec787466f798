# JSON helper benchmarks (Google Benchmark): parse, small edit and patch of
# the fixture Cluster and Pod with the SDK, against the naive nlohmann path
# measured in the same run. Counts allocations with a replaced operator new.
#   cmake --build <dir> --target helpers_json_bench
#   <dir>/bench/helpers_json_bench --benchmark_repetitions=10 --benchmark_report_aggregates_only=true
find_package(benchmark CONFIG REQUIRED)
add_executable(helpers_json_bench helpers/json_bench.cc)
target_link_libraries(helpers_json_bench PRIVATE cnpgi::cnpgi benchmark::benchmark)
target_compile_definitions(helpers_json_bench PRIVATE
  CNPGI_BENCH_DATA_DIR="${PROJECT_SOURCE_DIR}/tests/data")
cnpgi_strict_warnings(helpers_json_bench)
