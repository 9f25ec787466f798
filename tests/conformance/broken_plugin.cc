// A CNPG-I plugin written directly on the generated gRPC callback services
// (the SDK refuses to serve most of these mistakes), with one defect chosen
// on the command line, so that each conformance check can be shown to fail
// for the right reason. With --defect none every check passes.
//
//   broken_plugin --socket DIR/broken.conformance.cnpgi.example --defect status-array
//   broken_plugin --address 127.0.0.1:0 --port-file F --server-cert C --server-key K
//                 [--client-cert CA] --defect no-client-auth
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "cnpgi/identity/v1/identity.grpc.pb.h"
#include "cnpgi/identity/v1/postgres.grpc.pb.h"
#include "cnpgi/json.h"
#include "cnpgi/metrics/v1/metrics.grpc.pb.h"
#include "cnpgi/operator/v1/operator.grpc.pb.h"
#include "cnpgi/operator_lifecycle/v1/operator_lifecycle.grpc.pb.h"
#include "cnpgi/wal/v1/wal.grpc.pb.h"

namespace {

using grpc::CallbackServerContext;
using grpc::ServerUnaryReactor;
using grpc::Status;
using grpc::StatusCode;
using nlohmann::json;
namespace identity = cnpgi::identity::v1;
namespace op = cnpgi::operator_::v1;
namespace lifecycle = cnpgi::operator_lifecycle::v1;
namespace metrics = cnpgi::metrics::v1;

constexpr char kName[] = "broken.conformance.cnpgi.example";

const std::set<std::string>& KnownDefects() {
  static const std::set<std::string> defects = {
      "none",
      "bad-metadata",               // invalid name, empty version
      "unserved-service",           // advertises WAL_SERVICE, does not serve it
      "empty-capability",           // a capability entry with its oneof unset
      "unimplemented-rpc",          // advertises SetStatusInCluster, answers UNIMPLEMENTED
      "slow-probe",                 // Probe takes a second
      "nondeterministic-evaluate",  // EVALUATE adds a counter
      "nonidempotent-evaluate",     // EVALUATE appends a container every time
      "kind-change",                // the patch rewrites /kind
      "invalid-patch",              // the patch adds below a missing parent
      "status-array",               // SetStatusInCluster answers a JSON array
      "partial-config",             // EnrichConfiguration answers only its own key
      "metrics-mismatch",           // Collect disagrees with Define
      "crash-on-malformed-json",    // aborts on a Cluster it cannot parse
      "accepts-malformed-json",     // answers OK to anything
      "accepts-wrong-kind",         // takes a Pod for a Cluster
      "status-null",                // SetStatusInCluster answers the JSON text null
      "null-patches",               // answers the patch `null` when nothing changes, as Go does
      "not-thread-safe",            // fails calls that overlap
      "hang",                       // never answers GetPluginMetadata
      "no-client-auth",             // TCP: TLS without client certificates
  };
  return defects;
}

std::string defect = "none";
bool Is(const char* d) { return defect == d; }

ServerUnaryReactor* Done(CallbackServerContext* context, Status status = Status::OK) {
  ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(std::move(status));
  return reactor;
}

// Finishes `work` on a thread of its own after `delay`, so that calls really
// overlap whatever gRPC's own threading.
ServerUnaryReactor* Later(CallbackServerContext* context, std::chrono::milliseconds delay,
                          std::function<Status()> work) {
  ServerUnaryReactor* reactor = context->DefaultReactor();
  std::thread([reactor, delay, work = std::move(work)] {
    std::this_thread::sleep_for(delay);
    reactor->Finish(work());
  }).detach();
  return reactor;
}

std::atomic<int> in_flight{0};

// Runs `work`, failing it when another call is running (not-thread-safe).
ServerUnaryReactor* Guarded(CallbackServerContext* context, std::function<Status()> work) {
  if (!Is("not-thread-safe")) return Done(context, work());
  return Later(context, std::chrono::milliseconds(50), [work = std::move(work)] {
    const int others = in_flight.fetch_add(1);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    Status status = others > 0 ? Status(StatusCode::INTERNAL,
                                        "another call was running: this plugin keeps its state "
                                        "in globals without locks")
                               : work();
    in_flight.fetch_sub(1);
    return status;
  });
}

// The Cluster of a request, checked the way a careful plugin does.
Status ParseCluster(const std::string& bytes, json* out) {
  if (Is("accepts-malformed-json")) return Status::OK;
  absl::StatusOr<json> parsed = cnpgi::ParseJson(bytes);
  if (!parsed.ok()) {
    if (Is("crash-on-malformed-json")) {
      std::fprintf(stderr, "broken plugin: cannot parse the Cluster, aborting\n");
      std::abort();
    }
    return Status(StatusCode::INVALID_ARGUMENT,
                  "the Cluster is not JSON: " + std::string(parsed.status().message()));
  }
  if (!parsed->is_object())
    return Status(StatusCode::INVALID_ARGUMENT, "the Cluster is not an object");
  if (!Is("accepts-wrong-kind") && parsed->value("kind", "Cluster") != "Cluster") {
    return Status(StatusCode::INVALID_ARGUMENT,
                  "expected a Cluster, got a " + parsed->value("kind", std::string("?")));
  }
  if (out != nullptr) *out = *std::move(parsed);
  return Status::OK;
}

class Identity final : public identity::Identity::CallbackService {
  // Never finishes on its own; finishes when the client gives up.
  class Hang final : public ServerUnaryReactor {
    void OnCancel() override { Finish(Status(StatusCode::CANCELLED, "gave up")); }
    void OnDone() override { delete this; }
  };

  ServerUnaryReactor* GetPluginMetadata(CallbackServerContext* context,
                                        const identity::GetPluginMetadataRequest*,
                                        identity::GetPluginMetadataResponse* response) override {
    if (Is("hang")) return new Hang;
    response->set_name(Is("bad-metadata") ? "Broken_Plugin!" : kName);
    response->set_version(Is("bad-metadata") ? "" : "0.0.1");
    response->set_display_name("Broken plugin");
    return Done(context);
  }
  ServerUnaryReactor* GetPluginCapabilities(
      CallbackServerContext* context, const identity::GetPluginCapabilitiesRequest*,
      identity::GetPluginCapabilitiesResponse* response) override {
    using Type = identity::PluginCapability::Service;
    for (auto type : {Type::TYPE_OPERATOR_SERVICE, Type::TYPE_LIFECYCLE_SERVICE,
                      Type::TYPE_POSTGRES, Type::TYPE_METRICS}) {
      response->add_capabilities()->mutable_service()->set_type(type);
    }
    if (Is("unserved-service")) {
      response->add_capabilities()->mutable_service()->set_type(Type::TYPE_WAL_SERVICE);
    }
    if (Is("empty-capability")) response->add_capabilities();
    return Done(context);
  }
  ServerUnaryReactor* Probe(CallbackServerContext* context, const identity::ProbeRequest*,
                            identity::ProbeResponse* response) override {
    response->set_ready(true);
    if (Is("slow-probe")) {
      return Later(context, std::chrono::milliseconds(1000), [] { return Status::OK; });
    }
    return Guarded(context, [] { return Status::OK; });
  }
};

class Operator final : public op::Operator::CallbackService {
  ServerUnaryReactor* GetCapabilities(CallbackServerContext* context,
                                      const op::OperatorCapabilitiesRequest*,
                                      op::OperatorCapabilitiesResult* response) override {
    response->add_capabilities()->mutable_rpc()->set_type(
        op::OperatorCapability::RPC::TYPE_SET_STATUS_IN_CLUSTER);
    return Done(context);
  }
  ServerUnaryReactor* SetStatusInCluster(CallbackServerContext* context,
                                         const op::SetStatusInClusterRequest* request,
                                         op::SetStatusInClusterResponse* response) override {
    if (Is("unimplemented-rpc")) {
      return Done(context, Status(StatusCode::UNIMPLEMENTED, "not written yet"));
    }
    return Guarded(context, [request, response] {
      Status s = ParseCluster(request->cluster(), nullptr);
      if (!s.ok()) return s;
      response->set_json_status(Is("status-array")  ? "[1,2,3]"
                                : Is("status-null") ? "null"
                                                    : R"({"ok":true})");
      return Status::OK;
    });
  }
};

class Lifecycle final : public lifecycle::OperatorLifecycle::CallbackService {
  ServerUnaryReactor* GetCapabilities(
      CallbackServerContext* context, const lifecycle::OperatorLifecycleCapabilitiesRequest*,
      lifecycle::OperatorLifecycleCapabilitiesResponse* response) override {
    auto* pod = response->add_lifecycle_capabilities();
    pod->set_group("");
    pod->set_kind("Pod");
    pod->add_operation_types()->set_type(lifecycle::OperatorOperationType::TYPE_EVALUATE);
    pod->add_operation_types()->set_type(lifecycle::OperatorOperationType::TYPE_CREATE);
    return Done(context);
  }
  ServerUnaryReactor* LifecycleHook(CallbackServerContext* context,
                                    const lifecycle::OperatorLifecycleRequest* request,
                                    lifecycle::OperatorLifecycleResponse* response) override {
    return Guarded(context, [request, response] { return Hook(*request, *response); });
  }

  static Status Hook(const lifecycle::OperatorLifecycleRequest& request,
                     lifecycle::OperatorLifecycleResponse& response) {
    Status s = ParseCluster(request.cluster_definition(), nullptr);
    if (!s.ok()) return s;
    if (Is("accepts-malformed-json")) return Status::OK;
    absl::StatusOr<json> pod = cnpgi::ParseJson(request.object_definition());
    if (!pod.ok() || !pod->is_object()) {
      if (Is("crash-on-malformed-json")) std::abort();
      return Status(StatusCode::INVALID_ARGUMENT, "the object is not a JSON object");
    }
    const bool evaluate =
        request.operation_type().type() == lifecycle::OperatorOperationType::TYPE_EVALUATE;
    json patch = json::array();
    if (evaluate && Is("nondeterministic-evaluate")) {
      static std::atomic<int> counter{0};
      patch.push_back(
          {{"op", "add"},
           {"path", "/metadata/annotations"},
           {"value", {{"broken.cnpgi.example/generation", std::to_string(++counter)}}}});
    } else if (Is("nonidempotent-evaluate")) {  // EVALUATE and CREATE share the code
      patch.push_back({{"op", "add"},
                       {"path", "/spec/containers/-"},
                       {"value", {{"name", "sidecar"}, {"image", "registry.example/sidecar:1"}}}});
    } else if (Is("kind-change")) {
      patch.push_back({{"op", "replace"}, {"path", "/kind"}, {"value", "Deployment"}});
    } else if (Is("invalid-patch")) {
      patch.push_back({{"op", "add"}, {"path", "/spec/notThere/child"}, {"value", 1}});
    } else {
      const json* labels = cnpgi::FindJson(*pod, "/metadata/labels");
      if (labels == nullptr || !labels->is_object()) {
        patch.push_back({{"op", "add"},
                         {"path", "/metadata/labels"},
                         {"value", {{"broken.cnpgi.example/seen", "yes"}}}});
      } else if (!labels->contains("broken.cnpgi.example/seen")) {
        patch.push_back({{"op", "add"},
                         {"path", "/metadata/labels/broken.cnpgi.example~1seen"},
                         {"value", "yes"}});
      }
    }
    if (!patch.empty()) response.set_json_patch(patch.dump());
    if (patch.empty() && Is("null-patches")) response.set_json_patch("null");
    return Status::OK;
  }
};

class Postgres final : public identity::Postgres::CallbackService {
  ServerUnaryReactor* GetCapabilities(CallbackServerContext* context,
                                      const identity::PostgresCapabilitiesRequest*,
                                      identity::PostgresCapabilitiesResult* response) override {
    response->add_capabilities()->mutable_rpc()->set_type(
        identity::PostgresCapability::RPC::TYPE_ENRICH_CONFIGURATION);
    return Done(context);
  }
  ServerUnaryReactor* EnrichConfiguration(CallbackServerContext* context,
                                          const identity::EnrichConfigurationRequest* request,
                                          identity::EnrichConfigurationResult* response) override {
    return Guarded(context, [request, response] {
      Status s = ParseCluster(request->cluster_definition(), nullptr);
      if (!s.ok()) return s;
      if (!Is("partial-config")) *response->mutable_configs() = request->configs();
      (*response->mutable_configs())["broken.setting"] = "on";
      return Status::OK;
    });
  }
};

class Metrics final : public metrics::Metrics::CallbackService {
  ServerUnaryReactor* GetCapabilities(CallbackServerContext* context,
                                      const metrics::MetricsCapabilitiesRequest*,
                                      metrics::MetricsCapabilitiesResult* response) override {
    response->add_capabilities()->mutable_rpc()->set_type(
        metrics::MetricsCapability::RPC::TYPE_METRICS);
    return Done(context);
  }
  ServerUnaryReactor* Define(CallbackServerContext* context, const metrics::DefineMetricsRequest*,
                             metrics::DefineMetricsResult* response) override {
    auto* m = response->add_metrics();
    m->set_fq_name("broken_up");
    m->set_help("1 when up");
    m->add_variable_labels("cluster");
    if (!Is("metrics-mismatch")) m->mutable_value_type()->set_type(metrics::MetricType::TYPE_GAUGE);
    return Done(context);
  }
  ServerUnaryReactor* Collect(CallbackServerContext* context,
                              const metrics::CollectMetricsRequest* request,
                              metrics::CollectMetricsResult* response) override {
    return Guarded(context, [request, response] {
      json cluster;
      Status s = ParseCluster(request->cluster_definition(), &cluster);
      if (!s.ok()) return s;
      auto* m = response->add_metrics();
      m->set_fq_name("broken_up");
      m->set_value(1);
      m->add_variable_labels("pg-orders");
      if (Is("metrics-mismatch")) {
        m->add_variable_labels("extra");
        auto* unknown = response->add_metrics();
        unknown->set_fq_name("broken_undefined_total");
        unknown->set_value(3);
      }
      return Status::OK;
    });
  }
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

int Usage(const std::string& why) {
  std::cerr << "broken_plugin: " << why
            << "\nusage: broken_plugin --socket PATH | --address HOST:PORT --port-file F "
               "--server-cert C --server-key K [--client-cert CA]  [--defect NAME]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  // Signals are taken by sigwait below; block them before gRPC starts threads.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  std::map<std::string, std::string> flags;
  for (int i = 1; i + 1 < argc; i += 2) flags[argv[i]] = argv[i + 1];
  if (argc % 2 == 0) return Usage("flags come in pairs");
  if (flags.count("--defect") > 0) defect = flags["--defect"];
  if (KnownDefects().count(defect) == 0) return Usage("unknown defect " + defect);

  Identity identity_service;
  Operator operator_service;
  Lifecycle lifecycle_service;
  Postgres postgres_service;
  Metrics metrics_service;
  grpc::ServerBuilder builder;
  int port = 0;
  if (flags.count("--socket") > 0) {
    unlink(flags["--socket"].c_str());
    builder.AddListeningPort("unix:" + flags["--socket"], grpc::InsecureServerCredentials());
  } else if (flags.count("--address") > 0) {
    grpc::SslServerCredentialsOptions ssl(
        Is("no-client-auth") ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                             : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
    ssl.pem_key_cert_pairs.push_back(
        {ReadFile(flags["--server-key"]), ReadFile(flags["--server-cert"])});
    if (flags.count("--client-cert") > 0) ssl.pem_root_certs = ReadFile(flags["--client-cert"]);
    builder.AddListeningPort(flags["--address"], grpc::SslServerCredentials(ssl), &port);
  } else {
    return Usage("--socket or --address is required");
  }
  builder.RegisterService(&identity_service);
  builder.RegisterService(&operator_service);
  builder.RegisterService(&lifecycle_service);
  builder.RegisterService(&postgres_service);
  builder.RegisterService(&metrics_service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server) return Usage("cannot listen");
  if (flags.count("--port-file") > 0) {
    std::ofstream(flags["--port-file"] + ".tmp") << port << "\n";
    std::rename((flags["--port-file"] + ".tmp").c_str(), flags["--port-file"].c_str());
  }
  // Until SIGTERM or SIGINT.
  int received = 0;
  sigwait(&signals, &received);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  if (flags.count("--socket") > 0) unlink(flags["--socket"].c_str());
  return 0;
}
