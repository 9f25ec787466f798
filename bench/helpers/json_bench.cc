// What a MutateCluster or LifecycleHook handler costs in JSON work: parse
// the object sent, apply a small edit, produce the RFC 6902 patch. The SDK
// path (cnpgi::ParseJson, edit snapshots, own diff and writer) runs against
// the naive path in the same process:
//   nlohmann::json::parse, deep copy, edit, nlohmann::json::diff, dump.
// Every benchmark reports allocations and allocated bytes per operation,
// counted by the replaced global operator new below.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <new>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "cnpgi/cluster.h"
#include "cnpgi/json.h"
#include "cnpgi/object.h"
#include "cnpgi/sidecar.h"

namespace {

// Per-thread, so that counting adds no atomic operation to what is timed.
thread_local std::size_t allocations = 0;
thread_local std::size_t allocated_bytes = 0;

void* Allocate(std::size_t size) {
  ++allocations;
  allocated_bytes += size;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}

}  // namespace

void* operator new(std::size_t size) { return Allocate(size); }
void* operator new[](std::size_t size) { return Allocate(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  ++allocations;
  allocated_bytes += size;
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }

namespace {

using Json = nlohmann::json;

constexpr std::string_view kPlugin = "cnpg-i-perf.example.com";

std::string Load(const char* name) {
  std::ifstream in(std::string(CNPGI_BENCH_DATA_DIR) + "/" + name, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().empty()) {
    std::fprintf(stderr, "cannot read %s\n", name);
    std::abort();
  }
  return text.str();
}

const std::string& ClusterText() {
  static const std::string* const text = new std::string(Load("cluster.json"));
  return *text;
}

const std::string& PodText() {
  static const std::string* const text = new std::string(Load("pod.json"));
  return *text;
}

// Resets the counters when the timed loop starts and reports them per
// iteration when it ends.
class AllocationCounter {
 public:
  explicit AllocationCounter(benchmark::State& state) : state_(state) {
    allocations = 0;
    allocated_bytes = 0;
  }
  ~AllocationCounter() {
    const double n = static_cast<double>(state_.iterations());
    state_.counters["allocs"] = static_cast<double>(allocations) / n;
    state_.counters["bytes"] = static_cast<double>(allocated_bytes) / n;
  }

 private:
  benchmark::State& state_;
};

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "benchmark check failed: %s\n", what);
    std::abort();
  }
}

// --- Parse only -----------------------------------------------------------

void BM_Parse_Naive(benchmark::State& state, const std::string& (*text)()) {
  AllocationCounter counter(state);
  for (auto _ : state) {
    Json document = Json::parse(text());
    benchmark::DoNotOptimize(document);
  }
}

void BM_Parse_Sdk(benchmark::State& state, const std::string& (*text)()) {
  AllocationCounter counter(state);
  for (auto _ : state) {
    absl::StatusOr<cnpgi::Object> object = cnpgi::Object::Parse(text());
    benchmark::DoNotOptimize(object);
  }
}

// --- The MutateCluster path: default a parameter of this plugin ------------

void BM_ClusterEditPatch_Naive(benchmark::State& state) {
  AllocationCounter counter(state);
  for (auto _ : state) {
    const Json sent = Json::parse(ClusterText());
    Json edited = sent;
    for (Json& plugin : edited["spec"]["plugins"]) {
      if (plugin["name"] == kPlugin) plugin["parameters"]["compression"] = "gzip";
    }
    std::string patch = Json::diff(sent, edited).dump();
    benchmark::DoNotOptimize(patch);
  }
}

void BM_ClusterEditPatch_Sdk(benchmark::State& state) {
  AllocationCounter counter(state);
  for (auto _ : state) {
    absl::StatusOr<cnpgi::Cluster> cluster = cnpgi::Cluster::Parse(ClusterText());
    Check(cluster.ok() && cluster->SetPluginParameter(kPlugin, "compression", "gzip").ok(), "edit");
    absl::StatusOr<std::string> patch = cluster->Patch();
    benchmark::DoNotOptimize(patch);
  }
}

// The same edit made through whole-document access: one deep copy (the
// snapshot) and a diff of the whole tree, like the naive path but with the
// SDK's parser, diff and writer. Shows what subtree snapshots save.
void BM_ClusterEditPatch_SdkWholeDocument(benchmark::State& state) {
  AllocationCounter counter(state);
  for (auto _ : state) {
    absl::StatusOr<cnpgi::Object> cluster = cnpgi::Object::Parse(ClusterText());
    Json& document = cluster->Edit();
    for (Json& plugin : document["spec"]["plugins"]) {
      if (plugin["name"] == kPlugin) plugin["parameters"]["compression"] = "gzip";
    }
    absl::StatusOr<std::string> patch = cluster->Patch();
    benchmark::DoNotOptimize(patch);
  }
}

// --- The LifecycleHook path: annotate a Pod ---------------------------------

void BM_PodEditPatch_Naive(benchmark::State& state) {
  AllocationCounter counter(state);
  for (auto _ : state) {
    const Json sent = Json::parse(PodText());
    Json edited = sent;
    edited["metadata"]["annotations"]["example.com/checked"] = "true";
    std::string patch = Json::diff(sent, edited).dump();
    benchmark::DoNotOptimize(patch);
  }
}

void BM_PodEditPatch_Sdk(benchmark::State& state) {
  AllocationCounter counter(state);
  for (auto _ : state) {
    absl::StatusOr<cnpgi::Object> pod = cnpgi::Object::Parse(PodText());
    Check(pod.ok() && pod->SetAnnotation("example.com/checked", "true").ok(), "edit");
    absl::StatusOr<std::string> patch = pod->Patch();
    benchmark::DoNotOptimize(patch);
  }
}

// A realistic lifecycle hook: inject a sidecar (env and mounts copied).
void BM_PodInjectSidecar_Sdk(benchmark::State& state) {
  cnpgi::SidecarOptions options;
  options.container = Json::parse(R"({"name":"plugin-example","image":"example/sidecar:1.0",
                                      "args":["instance"]})");
  options.copy_env = true;
  options.copy_volume_mounts = true;
  AllocationCounter counter(state);
  for (auto _ : state) {
    absl::StatusOr<cnpgi::Object> pod = cnpgi::Object::Parse(PodText());
    Check(pod.ok() && cnpgi::InjectSidecar(*pod, options).ok(), "inject");
    absl::StatusOr<std::string> patch = pod->Patch();
    benchmark::DoNotOptimize(patch);
  }
}

// --- The WAL path: read this plugin's configuration --------------------------

void BM_ClusterReadParameter_Naive(benchmark::State& state) {
  AllocationCounter counter(state);
  for (auto _ : state) {
    const Json cluster = Json::parse(ClusterText());
    std::string mode;
    for (const Json& plugin : cluster["spec"]["plugins"]) {
      if (plugin["name"] == kPlugin) mode = plugin["parameters"]["mode"].get<std::string>();
    }
    benchmark::DoNotOptimize(mode);
  }
}

void BM_ClusterReadParameter_Sdk(benchmark::State& state) {
  AllocationCounter counter(state);
  for (auto _ : state) {
    absl::StatusOr<cnpgi::Cluster> cluster = cnpgi::Cluster::Parse(ClusterText());
    cnpgi::ValidationErrors errors;
    std::optional<std::string_view> mode = cluster->GetPlugin(kPlugin)->parameters().GetString(
        "mode", errors, {.required = true, .one_of = {"annotate", "label"}});
    benchmark::DoNotOptimize(mode);
  }
}

BENCHMARK_CAPTURE(BM_Parse_Naive, Cluster, ClusterText);
BENCHMARK_CAPTURE(BM_Parse_Sdk, Cluster, ClusterText);
BENCHMARK_CAPTURE(BM_Parse_Naive, Pod, PodText);
BENCHMARK_CAPTURE(BM_Parse_Sdk, Pod, PodText);
BENCHMARK(BM_ClusterEditPatch_Naive);
BENCHMARK(BM_ClusterEditPatch_Sdk);
BENCHMARK(BM_ClusterEditPatch_SdkWholeDocument);
BENCHMARK(BM_PodEditPatch_Naive);
BENCHMARK(BM_PodEditPatch_Sdk);
BENCHMARK(BM_PodInjectSidecar_Sdk);
BENCHMARK(BM_ClusterReadParameter_Naive);
BENCHMARK(BM_ClusterReadParameter_Sdk);

}  // namespace

BENCHMARK_MAIN();
