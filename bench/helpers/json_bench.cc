// What a MutateCluster or LifecycleHook handler costs in JSON work: parse
// the object sent, apply a small edit, produce the RFC 6902 patch. The SDK
// path (cnpgi::ParseJson, edit snapshots, own diff and writer) runs against
// the naive path in the same process:
//   nlohmann::json::parse, deep copy, edit, nlohmann::json::diff, dump.
// Every benchmark reports allocations and allocated bytes per operation,
// counted by the replaced global operator new below.
//
// `helpers_json_bench --run=<name> --iterations=N` runs one operation N times
// without Google Benchmark, for instruction counts that do not depend on the
// machine's load:
//   valgrind --tool=callgrind helpers_json_bench --run=Cluster/EditPatch/Sdk --iterations=20
// minus the same with --iterations=0, divided by 20.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <new>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

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

void Check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "benchmark check failed: %s\n", what);
    std::abort();
  }
}

// Each operation returns something derived from its result so that the
// compiler cannot drop the work.

// --- Parse only -----------------------------------------------------------

std::size_t ParseNaive(const std::string& text) { return Json::parse(text).size(); }

std::size_t ParseSdk(const std::string& text) {
  absl::StatusOr<cnpgi::Object> object = cnpgi::Object::Parse(text);
  Check(object.ok(), "parse");
  return object->json().size();
}

// --- nlohmann's own parser, bounded: the alternative to cnpgi::ParseJson ---
//
// nlohmann 3.11's parser is iterative (no recursion), so a depth limit is a
// SAX handler that builds the document and refuses to nest deeper: what the
// SDK would use if it dropped its own parser. Measured here against
// cnpgi::ParseJson on the same input (docs/benchmarks.md, "The parser").
class BoundedDomBuilder {
 public:
  explicit BoundedDomBuilder(Json& root, std::size_t max_depth)
      : root_(root), max_depth_(max_depth) {}

  bool null() { return Put(nullptr); }
  bool boolean(bool value) { return Put(value); }
  bool number_integer(Json::number_integer_t value) { return Put(value); }
  bool number_unsigned(Json::number_unsigned_t value) { return Put(value); }
  bool number_float(Json::number_float_t value, const Json::string_t&) { return Put(value); }
  bool string(Json::string_t& value) { return Put(std::move(value)); }
  bool binary(Json::binary_t&) { return false; }
  bool start_object(std::size_t) { return Open(Json::value_t::object); }
  bool key(Json::string_t& key) {
    key_ = &(*stack_.back())[std::move(key)];
    return true;
  }
  bool end_object() { return Close(); }
  bool start_array(std::size_t) { return Open(Json::value_t::array); }
  bool end_array() { return Close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }

 private:
  Json* Slot() {
    if (stack_.empty()) return &root_;
    Json& top = *stack_.back();
    if (top.is_array()) {
      top.get_ref<Json::array_t&>().emplace_back();
      return &top.get_ref<Json::array_t&>().back();
    }
    return key_;
  }
  template <class T>
  bool Put(T&& value) {
    *Slot() = std::forward<T>(value);
    return true;
  }
  bool Open(Json::value_t type) {
    if (stack_.size() >= max_depth_) return false;
    Json* slot = Slot();
    *slot = Json(type);
    stack_.push_back(slot);
    return true;
  }
  bool Close() {
    stack_.pop_back();
    return true;
  }

  Json& root_;
  std::size_t max_depth_;
  std::vector<Json*> stack_;
  Json* key_ = nullptr;
};

Json ParseWithSax(const std::string& text) {
  Json document;
  BoundedDomBuilder builder(document, cnpgi::JsonLimits{}.max_depth);
  Check(Json::sax_parse(text, &builder), "sax_parse");
  return document;
}

std::size_t ParseNlohmannSax(const std::string& text) { return ParseWithSax(text).size(); }

// The three parsers must build the same document, or the comparison means
// nothing.
void CheckParsersAgree() {
  for (const std::string* text : {&ClusterText(), &PodText()}) {
    absl::StatusOr<Json> ours = cnpgi::ParseJson(*text);
    Check(ours.ok() && *ours == Json::parse(*text) && *ours == ParseWithSax(*text),
          "the parsers agree");
  }
}

// --- The MutateCluster path: default a parameter of this plugin ------------

std::size_t ClusterEditPatchNaive() {
  const Json sent = Json::parse(ClusterText());
  Json edited = sent;
  for (Json& plugin : edited["spec"]["plugins"]) {
    if (plugin["name"] == kPlugin) plugin["parameters"]["compression"] = "gzip";
  }
  return Json::diff(sent, edited).dump().size();
}

std::size_t ClusterEditPatchSdk() {
  absl::StatusOr<cnpgi::Cluster> cluster = cnpgi::Cluster::Parse(ClusterText());
  Check(cluster.ok() && cluster->SetPluginParameter(kPlugin, "compression", "gzip").ok(), "edit");
  absl::StatusOr<std::string> patch = cluster->Patch();
  Check(patch.ok() && !patch->empty(), "patch");
  return patch->size();
}

// The same edit made through whole-document access: one deep copy (the
// snapshot) and a diff of the whole tree, like the naive path but with the
// SDK's parser, diff and writer. Shows what subtree snapshots save.
std::size_t ClusterEditPatchSdkWholeDocument() {
  absl::StatusOr<cnpgi::Object> cluster = cnpgi::Object::Parse(ClusterText());
  Check(cluster.ok(), "parse");
  Json& document = cluster->Edit();
  for (Json& plugin : document["spec"]["plugins"]) {
    if (plugin["name"] == kPlugin) plugin["parameters"]["compression"] = "gzip";
  }
  absl::StatusOr<std::string> patch = cluster->Patch();
  Check(patch.ok() && !patch->empty(), "patch");
  return patch->size();
}

// --- The LifecycleHook path: annotate a Pod ---------------------------------

std::size_t PodEditPatchNaive() {
  const Json sent = Json::parse(PodText());
  Json edited = sent;
  edited["metadata"]["annotations"]["example.com/checked"] = "true";
  return Json::diff(sent, edited).dump().size();
}

std::size_t PodEditPatchSdk() {
  absl::StatusOr<cnpgi::Object> pod = cnpgi::Object::Parse(PodText());
  Check(pod.ok() && pod->SetAnnotation("example.com/checked", "true").ok(), "edit");
  absl::StatusOr<std::string> patch = pod->Patch();
  Check(patch.ok() && !patch->empty(), "patch");
  return patch->size();
}

// A realistic lifecycle hook: inject a sidecar (env and mounts copied).
std::size_t PodInjectSidecarSdk() {
  static const cnpgi::SidecarOptions* const options = [] {
    auto* o = new cnpgi::SidecarOptions;
    o->container = Json::parse(R"({"name":"plugin-example","image":"example/sidecar:1.0",
                                   "args":["instance"]})");
    o->copy_env = true;
    o->copy_volume_mounts = true;
    return o;
  }();
  absl::StatusOr<cnpgi::Object> pod = cnpgi::Object::Parse(PodText());
  Check(pod.ok() && cnpgi::InjectSidecar(*pod, *options).ok(), "inject");
  absl::StatusOr<std::string> patch = pod->Patch();
  Check(patch.ok() && !patch->empty(), "patch");
  return patch->size();
}

// --- The WAL path: read this plugin's configuration --------------------------

std::size_t ClusterReadParameterNaive() {
  const Json cluster = Json::parse(ClusterText());
  std::string mode;
  for (const Json& plugin : cluster["spec"]["plugins"]) {
    if (plugin["name"] == kPlugin) mode = plugin["parameters"]["mode"].get<std::string>();
  }
  return mode.size();
}

std::size_t ClusterReadParameterSdk() {
  absl::StatusOr<cnpgi::Cluster> cluster = cnpgi::Cluster::Parse(ClusterText());
  Check(cluster.ok(), "parse");
  cnpgi::ValidationErrors errors;
  std::optional<std::string_view> mode = cluster->GetPlugin(kPlugin)->parameters().GetString(
      "mode", errors, {.required = true, .one_of = {"annotate", "label"}});
  Check(mode.has_value(), "parameter");
  return mode->size();
}

struct Operation {
  const char* name;
  std::size_t (*run)();
};

const Operation kOperations[] = {
    {"Cluster/Parse/Naive", [] { return ParseNaive(ClusterText()); }},
    {"Cluster/Parse/Sdk", [] { return ParseSdk(ClusterText()); }},
    {"Pod/Parse/Naive", [] { return ParseNaive(PodText()); }},
    {"Pod/Parse/Sdk", [] { return ParseSdk(PodText()); }},
    {"Cluster/Parse/NlohmannSax", [] { return ParseNlohmannSax(ClusterText()); }},
    {"Pod/Parse/NlohmannSax", [] { return ParseNlohmannSax(PodText()); }},
    {"Cluster/EditPatch/Naive", ClusterEditPatchNaive},
    {"Cluster/EditPatch/Sdk", ClusterEditPatchSdk},
    {"Cluster/EditPatch/SdkWholeDocument", ClusterEditPatchSdkWholeDocument},
    {"Pod/EditPatch/Naive", PodEditPatchNaive},
    {"Pod/EditPatch/Sdk", PodEditPatchSdk},
    {"Pod/InjectSidecar/Sdk", PodInjectSidecarSdk},
    {"Cluster/ReadParameter/Naive", ClusterReadParameterNaive},
    {"Cluster/ReadParameter/Sdk", ClusterReadParameterSdk},
};

void Run(benchmark::State& state, std::size_t (*operation)()) {
  allocations = 0;
  allocated_bytes = 0;
  for (auto _ : state) benchmark::DoNotOptimize(operation());
  const double n = static_cast<double>(state.iterations());
  state.counters["allocs"] = static_cast<double>(allocations) / n;
  state.counters["bytes"] = static_cast<double>(allocated_bytes) / n;
}

// --run=<name> --iterations=N: the operation alone, N times.
bool RunAlone(int argc, char** argv) {
  std::string_view name;
  long iterations = -1;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg.substr(0, 6) == "--run=") name = arg.substr(6);
    if (arg.substr(0, 13) == "--iterations=") iterations = std::atol(argv[i] + 13);
  }
  if (name.empty()) return false;
  for (const Operation& operation : kOperations) {
    if (operation.name != name) continue;
    ClusterText();  // file reading is not part of the operation
    PodText();
    std::size_t sink = 0;
    for (long i = 0; i < iterations; ++i) sink += operation.run();
    std::printf("%s x %ld (%zu)\n", operation.name, iterations, sink);
    return true;
  }
  std::fprintf(stderr, "unknown operation %.*s\n", static_cast<int>(name.size()), name.data());
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  CheckParsersAgree();
  if (RunAlone(argc, argv)) return 0;
  for (const Operation& operation : kOperations) {
    benchmark::RegisterBenchmark(operation.name, Run, operation.run);
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
