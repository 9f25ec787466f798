// What the conformance checks share, and their list. Each check looks at one
// promise the operator relies on (SEMANTICS.md sections 1-3) and says
// precisely what is broken; they live by subject in checks_*.cc.
#include "testing/checks.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <latch>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/strings/str_join.h"
#include "cnpgi/json.h"
#include "testing/internal.h"

namespace cnpgi::testing::internal {
namespace {

using Json = nlohmann::json;

Json EnsurePluginEntry(Json cluster, const std::string& name,
                       const std::map<std::string, std::string>& parameters) {
  if (name.empty() || !cluster.is_object()) return cluster;
  Json& spec = cluster["spec"];
  if (!spec.is_object()) return cluster;
  Json& plugins = spec["plugins"];
  if (!plugins.is_array()) plugins = Json::array();
  for (const Json& p : plugins) {
    if (p.is_object() && p.value("name", "") == name) return cluster;
  }
  Json entry = {{"name", name}, {"enabled", true}, {"parameters", Json::object()}};
  for (const auto& [k, v] : parameters) entry["parameters"][k] = v;
  plugins.push_back(std::move(entry));
  return cluster;
}

}  // namespace

// Shared helpers ----------------------------------------------------------------

std::string Plural(std::size_t n, const char* one, const char* many) {
  return Cat(n, " ", n == 1 ? one : many);
}

std::string ParameterHint(const CheckEnv& env) {
  if (!env.options().plugin_parameters.empty()) return "";
  return " (if the plugin needs parameters in the Cluster, pass them with --plugin-parameters "
         "or the config file)";
}

std::string JoinProblems(const std::vector<std::string>& problems, std::size_t limit) {
  if (problems.size() <= limit) return absl::StrJoin(problems, "; ");
  std::vector<std::string> first(problems.begin(),
                                 problems.begin() + static_cast<std::ptrdiff_t>(limit));
  return Cat(absl::StrJoin(first, "; "), "; and ", problems.size() - limit, " more");
}

std::string StatusText(const absl::Status& status) {
  if (status.ok()) return "OK";
  return Cat(absl::StatusCodeToString(status.code()), ": ", status.message());
}

bool IsTransportFailure(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded ||
         status.code() == absl::StatusCode::kCancelled;
}

Verdict Findings::Conclude(const std::string& pass_message) const {
  if (!failures.empty()) {
    std::string message = JoinProblems(failures);
    if (!warnings.empty()) {
      Append(&message, "; also (tolerated by the operator): ", JoinProblems(warnings, 2));
    }
    return Fail(std::move(message));
  }
  if (!warnings.empty()) return Warn(JoinProblems(warnings));
  std::string message = pass_message;
  if (!notes.empty()) Append(&message, " (note: ", JoinProblems(notes), ")");
  return Pass(std::move(message));
}

bool OperatorCalls(Rpc rpc) {
  switch (rpc) {
    case Rpc::kValidateClusterCreate:
    case Rpc::kValidateClusterChange:
    case Rpc::kMutateCluster:
    case Rpc::kDeregister:
    case Rpc::kWalStatus:
    case Rpc::kSetFirstRequired:
      return false;
    default:
      return true;
  }
}

std::string NotCalledReason(Rpc rpc) {
  const bool wal = rpc == Rpc::kWalStatus || rpc == Rpc::kSetFirstRequired;
  return Cat(" (tolerated: CloudNativePG does not call ", ShortName(rpc), " today, SEMANTICS ",
             wal ? "3.5" : "3.1", ")");
}

bool HasSideEffects(Rpc rpc) {
  switch (rpc) {
    case Rpc::kArchiveWal:
    case Rpc::kRestoreWal:
    case Rpc::kSetFirstRequired:
    case Rpc::kBackup:
    case Rpc::kRestoreJob:
    case Rpc::kDeregister:
      return true;
    default:
      return false;
  }
}

std::string LifecycleCall::Label() const {
  std::string op = operator_lifecycle::v1::OperatorOperationType::Type_Name(
      static_cast<operator_lifecycle::v1::OperatorOperationType::Type>(operation));
  if (op.rfind("TYPE_", 0) == 0) op = op.substr(5);
  return Cat(op, " ", group.empty() ? std::string("core") : group, "/", kind);
}

std::string ShortName(Rpc rpc) {
  const std::string_view name = NameOf(rpc);  // cnpgi.wal.v1.WAL/Archive
  const auto slash = name.find('/');
  const auto dot = name.rfind('.', slash);
  return std::string(name.substr(dot == std::string_view::npos ? 0 : dot + 1));
}

std::vector<LifecycleCall> LifecycleCalls(const HandshakeResult& handshake) {
  std::vector<LifecycleCall> calls;
  if (!handshake.lifecycle_capabilities) return calls;
  std::set<std::string> seen;
  for (const auto& c : handshake.lifecycle_capabilities->lifecycle_capabilities()) {
    if (c.kind().empty()) continue;
    for (const auto& op : c.operation_types()) {
      const int type = static_cast<int>(op.type());
      if (type < 1 || type > 6 || type == 4 || type == 5) continue;  // DELETE, DEREGISTER
      LifecycleCall call{c.group(), c.kind(), static_cast<LifecycleOperation>(type)};
      if (seen.insert(call.Label()).second) calls.push_back(std::move(call));
    }
  }
  return calls;
}

CheckEnv::CheckEnv(const ConformanceOptions& options, ClientOptions client_options,
                   PluginClient client, absl::Status handshake_status)
    : options_(options),
      client_options_(std::move(client_options)),
      client_(std::move(client)),
      handshake_status_(std::move(handshake_status)) {}

absl::StatusOr<PluginClient> CheckEnv::Connect() const {
  return PluginClient::Connect(options_.endpoint, client_options_);
}

Json CheckEnv::cluster() const {
  if (options_.cluster) {
    return EnsurePluginEntry(*options_.cluster, handshake().name(), options_.plugin_parameters);
  }
  return client_.fixtures().cluster();
}

Json CheckEnv::recovery_cluster() const {
  if (options_.cluster) return cluster();
  return client_.fixtures().recovery_cluster();
}

Json CheckEnv::pod() const { return options_.pod ? *options_.pod : client_.fixtures().pod(); }
Json CheckEnv::job() const { return options_.job ? *options_.job : client_.fixtures().job(); }

Json CheckEnv::backup() const {
  if (options_.backup) return *options_.backup;
  Json backup = client_.fixtures().backup();
  for (const auto& [k, v] : options_.backup_parameters) {
    backup["spec"]["pluginConfiguration"]["parameters"][k] = v;
  }
  return backup;
}

Json CheckEnv::object(const std::string& group, const std::string& kind) const {
  if (group.empty() && kind == "Pod") return pod();
  if (group == "batch" && kind == "Job") return job();
  if (group == "postgresql.cnpg.io" && kind == "Cluster") return cluster();
  if (group == "postgresql.cnpg.io" && kind == "Backup") return backup();
  return client_.fixtures().object(group, kind);
}

std::map<std::string, std::string> CheckEnv::postgres_configuration() const {
  if (options_.postgres_configuration) return *options_.postgres_configuration;
  return client_.fixtures().postgres_configuration();
}

absl::Status CallWithFixtures(const CheckEnv& env, const PluginClient& client, Rpc rpc,
                              const Document* cluster_override) {
  const Document cluster =
      cluster_override != nullptr ? *cluster_override : Document(env.cluster());
  switch (rpc) {
    case Rpc::kValidateClusterCreate:
      return client.ValidateClusterCreate(cluster).status();
    case Rpc::kValidateClusterChange:
      return client.ValidateClusterChange(cluster, cluster).status();
    case Rpc::kMutateCluster:
      return client.MutateCluster(cluster).status();
    case Rpc::kSetStatusInCluster:
      return client.SetStatusInCluster(cluster).status();
    case Rpc::kDeregister:
      return client.Deregister(cluster);
    case Rpc::kPreReconcile:
    case Rpc::kPostReconcile: {
      const Document resource = env.handshake().HooksClusters() ? cluster : Document(env.backup());
      return rpc == Rpc::kPreReconcile ? client.PreReconcile(cluster, resource).status()
                                       : client.PostReconcile(cluster, resource).status();
    }
    case Rpc::kWalStatus:
      return client.WalStatus(cluster).status();
    case Rpc::kEnrichConfiguration:
      return client
          .EnrichConfiguration(ConfigurationOperation::kReconcile, cluster,
                               env.postgres_configuration())
          .status();
    case Rpc::kDefineMetrics:
      return client.DefineMetrics(cluster).status();
    case Rpc::kCollectMetrics:
      return client.CollectMetrics(cluster).status();
    case Rpc::kLifecycleHook:
    case Rpc::kArchiveWal:
    case Rpc::kRestoreWal:
    case Rpc::kSetFirstRequired:
    case Rpc::kBackup:
    case Rpc::kRestoreJob:
      break;
  }
  return absl::InternalError(Cat(NameOf(rpc), " is not called by CallWithFixtures"));
}

// Checks that open connections of their own need the handshake to succeed:
// when it fails the operator cannot use the plugin at all, which the
// capabilities and probe checks report.
std::optional<Verdict> HandshakeFailed(const CheckEnv& env) {
  if (env.handshake_status().ok()) return std::nullopt;
  return Skip(Cat("the operator's handshake fails (", StatusText(env.handshake_status()),
                  "): the plugin cannot be used at all, see capabilities.* and probe"));
}

const std::vector<CheckDefinition>& CheckDefinitions() {
  static const std::vector<CheckDefinition>* const checks = [] {
    auto* all = new std::vector<CheckDefinition>();
    for (auto part : {HandshakeChecks, CallChecks, SideEffectChecks, RobustnessChecks}) {
      std::vector<CheckDefinition> checks = part();
      all->insert(all->end(), checks.begin(), checks.end());
    }
    return all;
  }();
  return *checks;
}

}  // namespace cnpgi::testing::internal
