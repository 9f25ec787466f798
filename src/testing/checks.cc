// The conformance checks. Each one looks at one promise the operator relies
// on (SEMANTICS.md sections 1-3) and says precisely what is broken.
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

std::string Plural(std::size_t n, const char* one, const char* many) {
  return Cat(n, " ", n == 1 ? one : many);
}

std::string ServiceShortName(Service service) {
  switch (service) {
    case Service::kOperator:
      return "Operator";
    case Service::kWal:
      return "WAL";
    case Service::kBackup:
      return "Backup";
    case Service::kLifecycle:
      return "OperatorLifecycle";
    case Service::kReconcilerHooks:
      return "ReconcilerHooks";
    case Service::kRestoreJob:
      return "RestoreJobHooks";
    case Service::kPostgres:
      return "Postgres";
    case Service::kMetrics:
      return "Metrics";
  }
  return "?";
}

std::string ParameterHint(const CheckEnv& env) {
  if (!env.options().plugin_parameters.empty()) return "";
  return " (if the plugin needs parameters in the Cluster, pass them with --plugin-parameters "
         "or the config file)";
}

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

namespace {

// metadata.* -----------------------------------------------------------------

// Why `name` is not a valid Kubernetes label value ("" when it is): the
// cnpg.io/pluginName label of a TCP plugin's Service carries it.
std::string LabelValueProblem(const std::string& name) {
  if (name.size() > 63) return Cat(name.size(), " characters (at most 63)");
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  for (char c : name) {
    if (!alnum(c) && c != '-' && c != '_' && c != '.') {
      return (c >= 0x20 && c < 0x7f)
                 ? Cat("the character '", std::string(1, c), "'")
                 : Cat("the byte 0x", static_cast<int>(static_cast<unsigned char>(c)));
    }
  }
  if (!alnum(name.front()) || !alnum(name.back()))
    return "it does not start and end with [A-Za-z0-9]";
  return "";
}

// Why `name` is not the DNS-style name the protocol asks for ("" when it is).
std::string DnsNameProblem(const std::string& name) {
  if (name.size() > 63) return Cat("it is ", name.size(), " characters long (at most 63)");
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.';
    if (!ok) {
      return Cat("it has the character ",
                 (c >= 0x20 && c < 0x7f)
                     ? Cat("'", std::string(1, c), "'")
                     : Cat("0x", static_cast<int>(static_cast<unsigned char>(c))),
                 " at position ", i, "; only lowercase letters, digits, '-' and '.' are allowed");
    }
  }
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front()) || !alnum(name.back())) {
    return "it must start and end with a lowercase letter or a digit";
  }
  return "";
}

Verdict MetadataName(CheckEnv& env) {
  const std::string& name = env.handshake().name();
  Findings found;
  const Endpoint& endpoint = env.options().endpoint;
  const bool tcp = endpoint.transport == Endpoint::Transport::kTcp;
  std::string where;
  if (name.empty()) {
    found.failures.push_back(
        "the name is empty: the operator finds a plugin by its name (spec.plugins[].name, "
        "status.pluginStatus[].name; SEMANTICS 2.3)");
  } else {
    if (const std::string why = LabelValueProblem(name); tcp && !why.empty()) {
      found.failures.push_back(Cat("\"", Abbreviated(name), "\" is not a Kubernetes label value (",
                                   why,
                                   "): the plugin's Service must carry it as its "
                                   "cnpg.io/pluginName label (SEMANTICS 1.2, 2.3)"));
    } else if (const std::string dns = DnsNameProblem(name); !dns.empty()) {
      found.warnings.push_back(Cat("\"", Abbreviated(name), "\" is not a DNS-style name: ", dns,
                                   " (tolerated: the protocol asks for one, the operator does "
                                   "not check it; SEMANTICS 2.3)"));
    }
  }
  if (endpoint.transport == Endpoint::Transport::kUnix) {
    const std::string file = std::filesystem::path(endpoint.socket_path).filename().string();
    if (file != name) {
      found.failures.push_back(Cat("the socket file is named \"", file,
                                   "\" but the plugin calls itself \"", Abbreviated(name),
                                   "\": the instance manager registers plugins under their socket "
                                   "file name and looks them up by metadata name (SEMANTICS 1.1)"));
    } else {
      where = ", equal to the socket file name";
    }
  }
  if (!env.options().plugin_name.empty()) {
    if (env.options().plugin_name != name) {
      found.failures.push_back(Cat("expected \"", env.options().plugin_name,
                                   "\" (--plugin-name: the cnpg.io/pluginName label and "
                                   "spec.plugins[].name), got \"",
                                   Abbreviated(name), "\" (SEMANTICS 2.3)"));
    } else {
      where += ", equal to --plugin-name";
    }
  }
  return found.Conclude(
      Cat("\"", name, "\" (", name.size(), " characters) is a valid plugin name", where));
}

Verdict MetadataVersion(CheckEnv& env) {
  const auto& m = env.handshake().metadata;
  // The operator copies the version into status.pluginStatus[].version and
  // does nothing else with it (SEMANTICS 2.1): no answer can make it fail.
  if (m.version().empty()) {
    return Warn(
        "the version is empty (tolerated: the operator only shows it in the Cluster's "
        "status.pluginStatus[].version; SEMANTICS 2.1)");
  }
  for (char c : m.version()) {
    if (static_cast<unsigned char>(c) < 0x20 || c == ' ' || c == 0x7f) {
      return Warn(Cat("the version \"", Abbreviated(m.version()),
                      "\" contains spaces or control characters (tolerated: the operator only "
                      "shows it in status.pluginStatus[].version; SEMANTICS 2.1)"));
    }
  }
  std::string extra;
  if (m.display_name().empty()) extra = " (display_name is empty: optional, but shown by tools)";
  return Pass(Cat("version \"", m.version(), "\"", extra));
}

// capabilities.* ----------------------------------------------------------------

// The operator reads each entry's oneof by field access (a nil dereference
// when unset) and ignores types it does not know (SEMANTICS 2.1).
constexpr char kIgnoredEntry[] =
    " (tolerated: the operator ignores capability types it does not know; SEMANTICS 2.1)";

template <class Result>
void CheckRpcEntries(const std::optional<Result>& result, const std::string& service,
                     Findings& found) {
  if (!result) return;
  if (result->capabilities_size() == 0) {
    found.notes.push_back(Cat(service, " lists no RPC: the operator will never call it"));
  }
  std::set<int> seen;
  for (int i = 0; i < result->capabilities_size(); ++i) {
    const auto& c = result->capabilities(i);
    if (!c.has_rpc()) {
      found.failures.push_back(
          Cat(service, " capability ", i,
              " has its `rpc` oneof unset: the operator reads it by field access, a nil "
              "dereference that crashes it (SEMANTICS 2.1)"));
    } else if (static_cast<int>(c.rpc().type()) == 0) {
      found.warnings.push_back(
          Cat(service, " capability ", i, " has RPC type TYPE_UNSPECIFIED", kIgnoredEntry));
    } else if (!c.rpc().Type_IsValid(c.rpc().type())) {
      found.warnings.push_back(Cat(service, " capability ", i, " has the unknown RPC type ",
                                   static_cast<int>(c.rpc().type()), kIgnoredEntry));
    } else if (!seen.insert(static_cast<int>(c.rpc().type())).second) {
      found.notes.push_back(Cat(service, " lists ", c.rpc().Type_Name(c.rpc().type()), " twice"));
    }
  }
}

// The failure of the handshake's GetPluginCapabilities, if any.
std::optional<Verdict> CapabilitiesUnanswered(const HandshakeResult& h) {
  for (const auto& step : h.steps) {
    if (step.method == kGetPluginCapabilitiesMethod && !step.status.ok()) {
      return Fail(Cat("GetPluginCapabilities failed: ", StatusText(step.status),
                      " (the operator gives up on the plugin; SEMANTICS 2.1)"));
    }
  }
  return std::nullopt;
}

Verdict CapabilitiesEntries(CheckEnv& env) {
  const HandshakeResult& h = env.handshake();
  if (auto failed = CapabilitiesUnanswered(h)) return *failed;
  Findings found;
  std::set<int> seen;
  for (int i = 0; i < h.capabilities.capabilities_size(); ++i) {
    const auto& c = h.capabilities.capabilities(i);
    if (!c.has_service()) {
      found.failures.push_back(
          Cat("GetPluginCapabilities entry ", i,
              " has its `service` oneof unset: the operator reads it by field access, a nil "
              "dereference that crashes it (SEMANTICS 2.1)"));
    } else if (static_cast<int>(c.service().type()) == 0) {
      found.warnings.push_back(Cat("GetPluginCapabilities entry ", i,
                                   " has service type TYPE_UNSPECIFIED", kIgnoredEntry));
    } else if (!c.service().Type_IsValid(c.service().type())) {
      found.warnings.push_back(Cat("GetPluginCapabilities entry ", i,
                                   " has the unknown service type ",
                                   static_cast<int>(c.service().type()), kIgnoredEntry));
    } else if (!seen.insert(static_cast<int>(c.service().type())).second) {
      found.warnings.push_back(Cat("GetPluginCapabilities lists ",
                                   c.service().Type_Name(c.service().type()),
                                   " twice (tolerated: the operator asks its capabilities twice)"));
    }
  }
  if (h.capabilities.capabilities_size() == 0) {
    found.warnings.push_back(
        "GetPluginCapabilities lists no service (tolerated: the operator loads the plugin and "
        "has nothing to call)");
  }
  CheckRpcEntries(h.operator_capabilities, "Operator", found);
  CheckRpcEntries(h.wal_capabilities, "WAL", found);
  CheckRpcEntries(h.backup_capabilities, "Backup", found);
  CheckRpcEntries(h.postgres_capabilities, "Postgres", found);
  CheckRpcEntries(h.metrics_capabilities, "Metrics", found);
  // Lifecycle, reconciler and restore-job entries have no oneof: the
  // operator matches them against what it does and ignores the rest
  // (SEMANTICS 3.2, 3.3, 3.7).
  constexpr char kNeverMatches[] =
      " (tolerated: it matches nothing the operator does, so it is never called; SEMANTICS 3.2)";
  if (h.lifecycle_capabilities) {
    const auto& list = h.lifecycle_capabilities->lifecycle_capabilities();
    if (list.empty()) found.notes.push_back("OperatorLifecycle subscribes to nothing");
    for (int i = 0; i < list.size(); ++i) {
      const auto& c = list[i];
      if (c.kind().empty()) {
        found.warnings.push_back(
            Cat("OperatorLifecycle capability ", i, " has an empty kind", kNeverMatches));
      }
      if (c.operation_types().empty()) {
        found.warnings.push_back(Cat("OperatorLifecycle capability ", i, " (", c.kind(),
                                     ") lists no operation type", kNeverMatches));
      }
      for (const auto& op : c.operation_types()) {
        if (static_cast<int>(op.type()) == 0) {
          found.warnings.push_back(Cat("OperatorLifecycle capability ", i, " (", c.kind(),
                                       ") has operation type TYPE_UNSPECIFIED", kNeverMatches));
        } else if (!op.Type_IsValid(op.type())) {
          found.warnings.push_back(Cat("OperatorLifecycle capability ", i, " (", c.kind(),
                                       ") has the unknown operation type ",
                                       static_cast<int>(op.type()), kNeverMatches));
        }
      }
    }
  }
  if (h.reconciler_capabilities) {
    const auto& list = h.reconciler_capabilities->reconciler_capabilities();
    if (list.empty()) found.notes.push_back("ReconcilerHooks hooks no kind");
    for (int i = 0; i < list.size(); ++i) {
      const int kind = static_cast<int>(list[i].kind());
      if (kind == 0 || !reconciler::v1::ReconcilerHooksCapability::Kind_IsValid(kind)) {
        found.warnings.push_back(Cat("ReconcilerHooks capability ", i, " has the kind ", kind,
                                     " (KIND_CLUSTER = 1 or KIND_BACKUP = 2 expected; tolerated: "
                                     "the operator hooks only those; SEMANTICS 3.3)"));
      }
    }
  }
  if (h.restore_job_capabilities) {
    const auto& list = h.restore_job_capabilities->capabilities();
    if (list.empty()) found.notes.push_back("RestoreJobHooks lists no kind");
    for (int i = 0; i < list.size(); ++i) {
      if (list[i].kind() != wal::v1::RestoreJobHooksCapability::KIND_RESTORE) {
        found.warnings.push_back(Cat("RestoreJobHooks capability ", i, " has the kind ",
                                     static_cast<int>(list[i].kind()),
                                     " (KIND_RESTORE = 1 expected; tolerated: the restore job "
                                     "looks for KIND_RESTORE only; SEMANTICS 3.7)"));
      }
    }
  }
  return found.Conclude(
      Cat("every capability entry is set: ", absl::StrJoin(h.IdentityCapabilityNames(), ", ")));
}

Verdict CapabilitiesServices(CheckEnv& env) {
  const HandshakeResult& h = env.handshake();
  if (auto failed = CapabilitiesUnanswered(h)) return *failed;
  std::vector<std::string> problems;
  std::vector<std::string> answered;
  for (Service service : HandshakeOrder()) {
    if (!h.Advertises(service)) continue;
    const std::string_view method = CapabilitiesMethodOf(service);
    const HandshakeResult::Step* step = nullptr;
    for (const auto& s : h.steps) {
      if (s.method == method) step = &s;
    }
    if (step == nullptr) {
      problems.push_back(Cat(NameOf(service),
                             " is advertised but its GetCapabilities was not "
                             "reached (an earlier handshake step failed)"));
    } else if (!step->status.ok()) {
      problems.push_back(Cat(NameOf(service), " is advertised but ", method.substr(1),
                             " failed: ", StatusText(step->status),
                             " (the operator gives up on the plugin; SEMANTICS 2.1)"));
    } else {
      answered.push_back(ServiceShortName(service));
    }
  }
  if (!problems.empty()) return Fail(JoinProblems(problems));
  if (answered.empty()) return Pass("no service with capabilities is advertised");
  return Pass(
      Cat(Plural(answered.size(), "advertised service", "advertised services"),
          " answered GetCapabilities, in the operator's order: ", absl::StrJoin(answered, ", ")));
}

Verdict CapabilitiesRpcs(CheckEnv& env) {
  const HandshakeResult& h = env.handshake();
  Findings found;
  std::vector<std::string> answered;
  std::vector<std::string> other_errors;
  std::vector<std::string> not_exercised;
  auto judge = [&](Rpc rpc, const std::string& label, const absl::Status& status) {
    std::string problem;
    if (status.code() == absl::StatusCode::kUnimplemented) {
      problem = Cat(label, " is advertised but answers ", StatusText(status));
    } else if (IsTransportFailure(status)) {
      problem = Cat(label, ": ", StatusText(status));
    } else if (!status.ok()) {
      other_errors.push_back(Cat(label, ": ", StatusText(status)));
    } else {
      answered.push_back(label);
    }
    if (problem.empty()) return;
    if (OperatorCalls(rpc)) {
      found.failures.push_back(Cat(
          problem, " (the operator calls what is advertised: every call fails; SEMANTICS 2.1)"));
    } else {
      found.warnings.push_back(Cat(problem, NotCalledReason(rpc)));
    }
  };
  const PluginClient& client = env.client();
  for (Rpc rpc : AllRpcs()) {
    if (!h.Advertises(rpc)) continue;
    const std::string name = ShortName(rpc);
    if (rpc == Rpc::kLifecycleHook) {
      const auto calls = LifecycleCalls(h);
      if (calls.empty()) not_exercised.push_back("LifecycleHook (only DELETE subscriptions)");
      for (const LifecycleCall& call : calls) {
        judge(rpc, Cat("LifecycleHook(", call.Label(), ")"),
              client.LifecycleHook(call.operation, env.cluster(), env.object(call.group, call.kind))
                  .status());
      }
      continue;
    }
    if (HasSideEffects(rpc)) {
      not_exercised.push_back(name);
      continue;
    }
    judge(rpc, name, CallWithFixtures(env, client, rpc));
  }
  if (answered.empty() && other_errors.empty() && found.failures.empty() &&
      found.warnings.empty()) {
    return Pass(Cat("no advertised RPC without side effects to call",
                    not_exercised.empty() ? std::string()
                                          : Cat(" (not exercised here, side effects: ",
                                                absl::StrJoin(not_exercised, ", "), ")")));
  }
  std::string message = Cat(
      Plural(answered.size() + other_errors.size(), "advertised RPC call", "advertised RPC calls"),
      " answered something other than UNIMPLEMENTED");
  if (!other_errors.empty()) {
    Append(&message, "; errors for the fixtures: ", JoinProblems(other_errors, 2),
           ParameterHint(env));
  }
  if (!not_exercised.empty()) {
    Append(&message, "; not exercised here (side effects): ", absl::StrJoin(not_exercised, ", "));
  }
  return found.Conclude(message);
}

// probe ---------------------------------------------------------------------

// Pool acquisition and Probe together get 5 s in the operator's callers
// (SEMANTICS 1.4).
constexpr absl::Duration kOperatorProbeLimit = absl::Seconds(5);

Verdict ProbeCheck(CheckEnv& env) {
  const absl::Duration budget = env.options().probe_budget;
  // Wait as long as the operator waits: slower than that fails, slower than
  // the budget only warns.
  const PluginClient client = env.client().WithTimeout(kOperatorProbeLimit);
  absl::Duration slowest;
  constexpr int kProbes = 3;
  for (int i = 0; i < kProbes; ++i) {
    const absl::Time start = absl::Now();
    const absl::Status status = client.Probe();
    const absl::Duration took = absl::Now() - start;
    if (!status.ok()) {
      if (status.code() == absl::StatusCode::kDeadlineExceeded) {
        return Fail(Cat("Probe did not answer within ", DurationText(kOperatorProbeLimit),
                        ": every caller probes on each use of a pooled connection and gives up "
                        "after 5 s for acquisition and Probe together (SEMANTICS 1.4)"));
      }
      return Fail(Cat("Probe failed: ", StatusText(status),
                      " (the operator drops the connection and, after a few retries, fails; "
                      "SEMANTICS 2.1)"));
    }
    slowest = std::max(slowest, took);
  }
  if (slowest > budget) {
    return Warn(Cat("Probe took ", DurationText(slowest), ", more than the budget of ",
                    DurationText(budget),
                    " (--probe-budget); tolerated up to 5 s, but it runs on every use of a pooled "
                    "connection (SEMANTICS 1.4)"));
  }
  return Pass(Cat("answered OK ", kProbes, " times, slowest in ", DurationText(slowest),
                  " (budget ", DurationText(budget), ")"));
}

// operator.* ---------------------------------------------------------------------

Verdict OperatorStatus(CheckEnv& env) {
  if (!env.handshake().Advertises(Rpc::kSetStatusInCluster)) {
    return Skip("SetStatusInCluster is not advertised");
  }
  auto status = env.client().SetStatusInCluster(env.cluster());
  if (!status.ok()) {
    if (status.status().code() == absl::StatusCode::kFailedPrecondition) {
      return Fail(Cat(status.status().message(), " (SEMANTICS 3.1)"));
    }
    return Fail(
        Cat("SetStatusInCluster failed for the fixture Cluster: ", StatusText(status.status()),
            " (the operator fails the reconcile; SEMANTICS 3.1)", ParameterHint(env)));
  }
  if (!status->has_value()) return Pass("answered no status (the operator's \"no change\")");
  if ((*status)->is_null()) {
    return Warn(
        "answered the JSON text null (tolerated: the operator decodes it into an empty map and "
        "stores \"null\" as status.pluginStatus[].status, then requeues the Cluster in 5 s; "
        "answer an empty json_status for \"no status\"; SEMANTICS 3.1)");
  }
  absl::StatusOr<std::string> text = ToJson(**status);
  return Pass(Cat("answered a JSON object (", text.ok() ? text->size() : 0,
                  " bytes), which the operator stores in status.pluginStatus[].status"));
}

Verdict OperatorValidation(CheckEnv& env) {
  const HandshakeResult& h = env.handshake();
  const bool create = h.Advertises(Rpc::kValidateClusterCreate);
  const bool change = h.Advertises(Rpc::kValidateClusterChange);
  if (!create && !change)
    return Skip(
        "neither ValidateClusterCreate nor ValidateClusterChange is "
        "advertised");
  Findings found;
  // The operator does not call either (SEMANTICS 3.1): what would break it
  // if it did is a warning.
  auto judge = [&](Rpc rpc, const absl::StatusOr<std::vector<ValidationError>>& errors) {
    const std::string name = ShortName(rpc);
    if (!errors.ok()) {
      found.warnings.push_back(Cat(name,
                                   " failed for the fixture Cluster: ", StatusText(errors.status()),
                                   ParameterHint(env), NotCalledReason(rpc)));
      return;
    }
    for (const ValidationError& e : *errors) {
      if (e.path.empty()) {
        found.warnings.push_back(Cat(name,
                                     " returned a validation error with no path_components (\"",
                                     Abbreviated(e.message),
                                     "\"): an operator calling it would index the first component "
                                     "and crash",
                                     NotCalledReason(rpc)));
      } else if (e.message.empty()) {
        found.warnings.push_back(Cat(name, " returned a validation error at ", e.PathString(),
                                     " without a message", NotCalledReason(rpc)));
      }
    }
    if (!errors->empty()) {
      found.notes.push_back(Cat(name, " reported ", Plural(errors->size(), "error", "errors"),
                                " for the fixture Cluster, first: ", (*errors)[0].ToString()));
    }
  };
  const Json cluster = env.cluster();
  if (create) judge(Rpc::kValidateClusterCreate, env.client().ValidateClusterCreate(cluster));
  if (change) {
    judge(Rpc::kValidateClusterChange, env.client().ValidateClusterChange(cluster, cluster));
  }
  return found.Conclude(found.notes.empty()
                            ? std::string("the fixture Cluster is valid; answers are well formed")
                            : Cat("validation errors are well formed", ParameterHint(env)));
}

Verdict OperatorMutate(CheckEnv& env) {
  if (!env.handshake().Advertises(Rpc::kMutateCluster)) {
    return Skip("MutateCluster is not advertised");
  }
  // Not called by the operator (SEMANTICS 3.1): problems are warnings.
  const std::string reason = NotCalledReason(Rpc::kMutateCluster);
  auto first = env.client().MutateCluster(env.cluster());
  if (!first.ok()) return Warn(Cat(StatusText(first.status()), ParameterHint(env), reason));
  auto again = env.client().MutateCluster(first->json());
  if (!again.ok()) {
    return Warn(
        Cat("MutateCluster on its own result failed: ", StatusText(again.status()), reason));
  }
  if (again->changed()) {
    return Warn(
        Cat("MutateCluster on its own result changes it again (defaulting must be "
            "idempotent): ",
            again->DescribeChange(), reason));
  }
  return Pass(first->changed()
                  ? Cat("the patch applies, keeps apiVersion/kind and is idempotent (first change ",
                        first->DescribeChange(), ")")
                  : std::string("answered no patch for the fixture Cluster"));
}

// Checks that open connections of their own need the handshake to succeed:
// when it fails the operator cannot use the plugin at all, which the
// capabilities and probe checks report.
std::optional<Verdict> HandshakeFailed(const CheckEnv& env) {
  if (env.handshake_status().ok()) return std::nullopt;
  return Skip(Cat("the operator's handshake fails (", StatusText(env.handshake_status()),
                  "): the plugin cannot be used at all, see capabilities.* and probe"));
}

// lifecycle.* -------------------------------------------------------------------

Verdict LifecyclePatch(CheckEnv& env) {
  const auto calls = LifecycleCalls(env.handshake());
  if (calls.empty()) {
    return Skip(env.handshake().Advertises(Service::kLifecycle)
                    ? "no subscription to exercise (DELETE hooks are not called)"
                    : "TYPE_LIFECYCLE_SERVICE is not advertised");
  }
  std::vector<std::string> problems;
  std::vector<std::string> done;
  for (const LifecycleCall& call : calls) {
    auto result = env.client().LifecycleHook(call.operation, env.cluster(),
                                             env.object(call.group, call.kind));
    if (!result.ok()) {
      problems.push_back(Cat(call.Label(), ": ", StatusText(result.status())));
      continue;
    }
    done.push_back(Cat(call.Label(), result->changed() ? " (patched)" : " (no patch)"));
  }
  if (!problems.empty()) {
    return Fail(Cat(JoinProblems(problems),
                    " (the operator fails the operation: the Cluster goes to phase FailurePlugin; "
                    "SEMANTICS 3.2)",
                    ParameterHint(env)));
  }
  return Pass(Cat("patches apply as RFC 6902 to the object sent and keep apiVersion/kind: ",
                  absl::StrJoin(done, ", ")));
}

Verdict LifecycleDeterministic(CheckEnv& env) {
  std::vector<LifecycleCall> evaluate;
  for (const LifecycleCall& call : LifecycleCalls(env.handshake())) {
    if (call.operation == LifecycleOperation::kEvaluate) evaluate.push_back(call);
  }
  if (evaluate.empty()) return Skip("the plugin does not subscribe to EVALUATE");
  if (std::optional<Verdict> unusable = HandshakeFailed(env)) return *unusable;
  absl::StatusOr<PluginClient> other = env.Connect();
  if (!other.ok()) return Fail(Cat("a second connection failed: ", StatusText(other.status())));
  std::vector<std::string> problems;
  for (const LifecycleCall& call : evaluate) {
    const Json cluster = env.cluster();
    const Json object = env.object(call.group, call.kind);
    std::optional<Json> reference;
    // Three calls, the second on another connection: what changes between
    // calls (a counter, the time, a random name, map order) shows up.
    const PluginClient* clients[] = {&env.client(), &*other, &env.client()};
    for (int i = 0; i < 3; ++i) {
      auto result = clients[i]->LifecycleHook(call.operation, cluster, object);
      if (!result.ok()) {
        problems.push_back(Cat(call.Label(), " call ", i + 1, ": ", StatusText(result.status())));
        break;
      }
      if (!reference) {
        reference = result->json();
      } else if (*reference != result->json()) {
        problems.push_back(
            Cat(call.Label(), " is not deterministic: call ", i + 1,
                " on the same objects gave another result (",
                DescribeJsonDifference(*reference, result->json()),
                "); the operator compares EVALUATE results with the running Pods and restarts them "
                "on any difference (SEMANTICS 3.2)"));
        break;
      }
    }
  }
  if (!problems.empty()) return Fail(JoinProblems(problems));
  std::vector<std::string> labels;
  for (const auto& c : evaluate) labels.push_back(c.Label());
  return Pass(
      Cat(absl::StrJoin(labels, ", "), ": three calls on two connections gave the same object"));
}

// Names that must be unique in a pod spec (the API server rejects the Pod
// otherwise): containers and init containers together, volumes, and the
// mount paths of each container.
std::set<std::string> DuplicateNames(const Json& object) {
  std::set<std::string> out;
  const Json* spec = FindJson(object, "/spec/template/spec");
  if (object.value("kind", "") == "Pod") spec = FindJson(object, "/spec");
  if (spec == nullptr || !spec->is_object()) return out;
  std::set<std::string> containers;
  for (const char* list : {"initContainers", "containers"}) {
    const Json* entries = FindJson(*spec, std::string("/") + list);
    if (entries == nullptr || !entries->is_array()) continue;
    for (const Json& c : *entries) {
      if (!c.is_object()) continue;
      const std::string name = c.value("name", "");
      if (!containers.insert(name).second) out.insert(Cat("two containers named \"", name, "\""));
      std::set<std::string> paths;
      const Json* mounts = FindJson(c, "/volumeMounts");
      if (mounts == nullptr || !mounts->is_array()) continue;
      for (const Json& m : *mounts) {
        if (!m.is_object()) continue;
        const std::string path = m.value("mountPath", "");
        if (!paths.insert(path).second) {
          out.insert(Cat("container \"", name, "\" mounts ", path, " twice"));
        }
      }
    }
  }
  const Json* volumes = FindJson(*spec, "/volumes");
  if (volumes != nullptr && volumes->is_array()) {
    std::set<std::string> names;
    for (const Json& v : *volumes) {
      if (!v.is_object()) continue;
      const std::string name = v.value("name", "");
      if (!names.insert(name).second) out.insert(Cat("two volumes named \"", name, "\""));
    }
  }
  return out;
}

// What the operator does to one object: EVALUATE on a fresh spec, CREATE on
// the EVALUATE result, then PATCH and UPDATE on the stored object, again
// and again (SEMANTICS 3.2). Each step gets the previous step's result.
void CheckLifecycleChain(const CheckEnv& env, const std::string& group, const std::string& kind,
                         Findings& found, std::vector<std::string>& done) {
  std::vector<LifecycleOperation> steps;
  for (LifecycleOperation op : {LifecycleOperation::kEvaluate, LifecycleOperation::kCreate,
                                LifecycleOperation::kPatch, LifecycleOperation::kUpdate}) {
    if (env.handshake().Subscribes(group, kind, op)) steps.push_back(op);
  }
  const bool repeats = std::any_of(steps.begin(), steps.end(), [](LifecycleOperation op) {
    return op == LifecycleOperation::kPatch || op == LifecycleOperation::kUpdate;
  });
  // EVALUATE or CREATE alone: one call per object, never on an earlier result.
  if (steps.size() < 2 && !repeats) return;
  const Json cluster = env.cluster();
  Json current = env.object(group, kind);
  std::string previous;
  std::vector<std::string> labels;
  for (LifecycleOperation op : steps) {
    const LifecycleCall call{group, kind, op};
    const bool repeated = op == LifecycleOperation::kPatch || op == LifecycleOperation::kUpdate;
    for (int round = 0; round < (repeated ? 2 : 1); ++round) {
      const std::string label = Cat(call.Label(), round > 0 ? " (again)" : "");
      auto result = env.client().LifecycleHook(op, cluster, current);
      if (!result.ok()) {
        found.failures.push_back(
            Cat(label, previous.empty() ? std::string() : Cat(" on the result of ", previous), ": ",
                StatusText(result.status()), " (the operator fails the operation; SEMANTICS 3.2)"));
        return;
      }
      const std::set<std::string> before = DuplicateNames(current);
      for (const std::string& duplicate : DuplicateNames(result->json())) {
        if (before.count(duplicate) > 0) continue;
        found.failures.push_back(
            Cat(label, " applied to the result of ", previous, " makes ", duplicate, " (",
                result->DescribeChange(),
                "): the operator sends it that object, and the API server rejects the result; "
                "check for what is already there (SEMANTICS 3.2)"));
        return;
      }
      current = result->json();
      previous = label;
      labels.push_back(label);
    }
  }
  done.push_back(absl::StrJoin(labels, " -> "));
}

Verdict LifecycleIdempotent(CheckEnv& env) {
  const std::vector<LifecycleCall> all = LifecycleCalls(env.handshake());
  if (all.empty()) return Skip("the plugin subscribes to no operation that is exercised");
  std::vector<LifecycleCall> calls;
  for (const LifecycleCall& call : all) {
    if (call.operation == LifecycleOperation::kEvaluate ||
        call.operation == LifecycleOperation::kCreate) {
      calls.push_back(call);
    }
  }
  Findings found;
  std::vector<std::string> chains;
  std::set<std::string> kinds;
  for (const LifecycleCall& call : all) {
    if (kinds.insert(Cat(call.group, "/", call.kind)).second) {
      CheckLifecycleChain(env, call.group, call.kind, found, chains);
    }
  }
  // Applied to its own result: the operator never does that for EVALUATE
  // (always on a fresh spec) nor CREATE (once per object), so a change is
  // tolerated; it usually means the chain above would break once the two
  // hooks share the code.
  std::vector<std::string> done;
  for (const LifecycleCall& call : calls) {
    const Json cluster = env.cluster();
    auto first =
        env.client().LifecycleHook(call.operation, cluster, env.object(call.group, call.kind));
    if (!first.ok()) {
      found.failures.push_back(Cat(call.Label(), ": ", StatusText(first.status()),
                                   " (the operator fails the operation; SEMANTICS 3.2)"));
      continue;
    }
    auto second = env.client().LifecycleHook(call.operation, cluster, *first);
    if (!second.ok()) {
      found.warnings.push_back(Cat(call.Label(),
                                   " on its own result: ", StatusText(second.status()),
                                   " (tolerated: the operator never sends it its own result; "
                                   "SEMANTICS 3.2)"));
      continue;
    }
    if (second->changed()) {
      found.warnings.push_back(Cat(call.Label(),
                                   " is not idempotent: applied to its own result it "
                                   "changes it again (",
                                   second->DescribeChange(),
                                   "); tolerated: the operator runs EVALUATE on a fresh spec and "
                                   "CREATE once, but a hook that does not check for what is "
                                   "already there breaks when CREATE follows EVALUATE "
                                   "(SEMANTICS 3.2)"));
      continue;
    }
    if (second->has_operations()) {
      found.notes.push_back(Cat(call.Label(), " answers a patch without effect on its own result"));
    }
    done.push_back(call.Label());
  }
  std::string message;
  if (!chains.empty()) {
    message = Cat("each step applied to the previous result, as the operator does: ",
                  absl::StrJoin(chains, "; "));
  }
  if (!done.empty()) {
    if (!message.empty()) message += "; ";
    Append(&message, absl::StrJoin(done, ", "), ": applied to its own result, nothing changes");
  }
  if (message.empty()) message = "no EVALUATE or CREATE subscription";
  return found.Conclude(message);
}

// reconciler.hooks -----------------------------------------------------------------

Verdict ReconcilerHooks(CheckEnv& env) {
  const HandshakeResult& h = env.handshake();
  if (!h.HooksClusters() && !h.HooksBackups()) {
    return Skip(h.Advertises(Service::kReconcilerHooks)
                    ? "no kind is hooked"
                    : "TYPE_RECONCILER_HOOKS is not advertised");
  }
  Findings found;
  std::vector<std::string> done;
  auto judge = [&](const std::string& label,
                   const absl::StatusOr<reconciler::v1::ReconcilerHooksResult>& result) {
    if (!result.ok()) {
      found.failures.push_back(Cat(label, ": ", StatusText(result.status()),
                                   " (the reconcile stops with a plugin error; SEMANTICS 3.3)"));
      return;
    }
    const int behavior = static_cast<int>(result->behavior());
    if (!reconciler::v1::ReconcilerHooksResult::Behavior_IsValid(behavior)) {
      found.warnings.push_back(Cat(label, " answered the unknown behavior ", behavior,
                                   " (tolerated: the operator acts on TERMINATE and REQUEUE and "
                                   "goes on otherwise; SEMANTICS 3.3, inference)"));
    } else if (result->requeue_after() < 0) {
      found.warnings.push_back(Cat(label, " answered a negative requeue_after (",
                                   result->requeue_after(),
                                   " s; tolerated: the operator turns it into a duration "
                                   "without checking it; SEMANTICS 3.3)"));
    } else {
      done.push_back(Cat(label, " ",
                         reconciler::v1::ReconcilerHooksResult::Behavior_Name(result->behavior())));
    }
  };
  const Json cluster = env.cluster();
  if (h.HooksClusters()) {
    judge("Pre(Cluster)", env.client().PreReconcile(cluster, cluster));
    judge("Post(Cluster)", env.client().PostReconcile(cluster, cluster));
  }
  if (h.HooksBackups()) {
    const Json backup = env.backup();
    judge("Pre(Backup)", env.client().PreReconcile(cluster, backup));
    judge("Post(Backup)", env.client().PostReconcile(cluster, backup));
  }
  if (!found.failures.empty()) found.failures.back() += ParameterHint(env);
  return found.Conclude(absl::StrJoin(done, ", "));
}

// postgres.configuration ----------------------------------------------------------

Verdict PostgresConfigurationCheck(CheckEnv& env) {
  if (!env.handshake().Advertises(Rpc::kEnrichConfiguration)) {
    return Skip("EnrichConfiguration is not advertised");
  }
  const auto sent = env.postgres_configuration();
  const Json cluster = env.cluster();
  Findings found;
  std::vector<std::string>& problems = found.failures;
  std::vector<std::string> changed;
  std::optional<std::map<std::string, std::string>> reconcile_answer;
  const std::pair<ConfigurationOperation, const char*> operations[] = {
      {ConfigurationOperation::kInit, "INIT"},
      {ConfigurationOperation::kRestore, "RESTORE"},
      {ConfigurationOperation::kReconcile, "RECONCILE"},
      {ConfigurationOperation::kUpgrade, "UPGRADE"},
  };
  for (const auto& [operation, label] : operations) {
    auto result = env.client().EnrichConfiguration(operation, cluster, sent);
    if (!result.ok()) {
      problems.push_back(Cat(label, ": ", StatusText(result.status()),
                             " (the configuration fails: the instance or the job with it; "
                             "SEMANTICS 3.8)"));
      continue;
    }
    if (operation == ConfigurationOperation::kReconcile) reconcile_answer = result->answer;
    if (!result->changed()) continue;
    changed.push_back(label);
    std::vector<std::string> missing;
    for (const std::string& key : Fixtures::MandatoryPostgresParameters()) {
      if (sent.count(key) > 0 && result->answer.count(key) == 0) missing.push_back(key);
    }
    std::vector<std::string> dropped;
    for (const auto& [key, value] : sent) {
      if (result->answer.count(key) == 0) dropped.push_back(key);
    }
    if (!missing.empty()) {
      problems.push_back(
          Cat(label, ": the answer has ", Plural(result->answer.size(), "parameter", "parameters"),
              " and lacks ", absl::StrJoin(missing, ", "),
              ": the instance manager replaces its whole configuration with a non-empty answer, so "
              "answer the complete map it sent (with your changes) or nothing (SEMANTICS 3.8)"));
    } else if (!dropped.empty()) {
      found.warnings.push_back(
          Cat(label, " drops ", absl::StrJoin(dropped, ", "),
              " (tolerated: PostgreSQL runs without them, but the user's settings are lost; the "
              "answer replaces the whole map; SEMANTICS 3.8)"));
    }
  }
  if (reconcile_answer && problems.empty()) {
    auto again =
        env.client().EnrichConfiguration(ConfigurationOperation::kReconcile, cluster, sent);
    if (!again.ok()) {
      problems.push_back(Cat("RECONCILE, second call: ", StatusText(again.status())));
    } else if (again->answer != *reconcile_answer) {
      problems.push_back(
          "RECONCILE gave two different answers for the same request: the configuration hash "
          "changes and PostgreSQL reloads (or restarts) on every instance reconcile "
          "(SEMANTICS 3.8)");
    }
  }
  if (!problems.empty()) problems.back() += ParameterHint(env);
  return found.Conclude(
      changed.empty() ? std::string("answered no change for INIT, RESTORE, RECONCILE and UPGRADE")
                      : Cat("complete maps for ", absl::StrJoin(changed, ", "),
                            ", no change for the others; RECONCILE is deterministic"));
}

// metrics.consistent --------------------------------------------------------------

Verdict MetricsConsistent(CheckEnv& env) {
  if (!env.handshake().Advertises(Rpc::kDefineMetrics)) {
    return Skip("TYPE_METRICS is not advertised");
  }
  const Json cluster = env.cluster();
  auto defined = env.client().DefineMetrics(cluster);
  constexpr char kLost[] = " (the scrape loses the plugin's metrics; SEMANTICS 3.9)";
  if (!defined.ok()) return Fail(Cat("Define: ", StatusText(defined.status()), kLost));
  auto collected = env.client().CollectMetrics(cluster);
  if (!collected.ok()) return Fail(Cat("Collect: ", StatusText(collected.status()), kLost));
  auto matched = MatchMetrics(*defined, *collected);
  if (!matched.ok()) {
    return Fail(Cat(matched.status().message(),
                    " (the exporter fails the plugin's metrics, or crashes on an unset "
                    "value_type; SEMANTICS 3.9)"));
  }
  return Pass(Cat(Plural(static_cast<std::size_t>(defined->metrics_size()), "metric", "metrics"),
                  " defined, ", Plural(matched->size(), "sample", "samples"),
                  " collected, every sample matching its definition"));
}

// Opt-in checks with side effects ----------------------------------------------------

// A segment name no real cluster reaches soon (timeline 0xFD), so that the
// test segment is recognisable in an archive.
constexpr char kTestSegment[] = "000000FD0000000000000001";
constexpr char kMissingSegment[] = "000000FD00000000000000FF";

Verdict WalArchiveRestore(CheckEnv& env) {
  const HandshakeResult& h = env.handshake();
  const bool archive = h.Advertises(Rpc::kArchiveWal);
  const bool restore = h.Advertises(Rpc::kRestoreWal);
  if (!archive && !restore) return Skip("neither WAL Archive nor Restore is advertised");
  if (env.options().wal_dir.empty()) {
    return Skip(
        "changes the plugin's WAL archive: pass --wal-dir DIR (a scratch directory the "
        "plugin can read and write) to run it");
  }
  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::absolute(env.options().wal_dir, ec);
  std::filesystem::create_directories(dir, ec);
  if (ec) return Fail(Cat("cannot create --wal-dir ", dir.string(), ": ", ec.message()));
  const std::filesystem::path segment = dir / kTestSegment;
  // A 16 MiB segment with recognisable content.
  std::string content(16u << 20, '\0');
  for (std::size_t i = 0; i < content.size(); i += 4096) {
    const std::string mark = Cat("cnpgi-conformance test segment, block ", i / 4096, "\n");
    content.replace(i, std::min(mark.size(), content.size() - i), mark);
  }
  {
    std::ofstream out(segment, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) return Fail(Cat("cannot write the test segment ", segment.string()));
  }
  const PluginClient client = env.client().WithTimeout(env.options().long_call_timeout);
  const Json cluster = env.cluster();
  std::vector<std::string> done;
  std::vector<std::string> warnings;
  if (archive) {
    absl::Status s = client.ArchiveWal(cluster, segment.string(), false);
    if (!s.ok()) {
      return Fail(Cat("Archive of ", segment.string(), ": ", StatusText(s),
                      " (PostgreSQL keeps the segment and retries: WAL piles up; SEMANTICS 3.4)"));
    }
    done.push_back(Cat("archived ", kTestSegment));
  }
  if (restore) {
    const std::filesystem::path destination = dir / "RECOVERYXLOG";
    std::filesystem::remove(destination, ec);
    if (archive) {
      absl::Status s = client.RestoreWal(cluster, kTestSegment, destination.string());
      if (!s.ok()) {
        return Fail(Cat("Restore of the segment just archived: ", StatusText(s),
                        " (recovery cannot get it; SEMANTICS 3.5)"));
      }
      std::ifstream in(destination, std::ios::binary);
      std::ostringstream restored;
      restored << in.rdbuf();
      if (!in && !std::filesystem::exists(destination)) {
        return Fail(Cat("Restore answered OK but wrote nothing at ", destination.string()));
      }
      if (restored.str() != content) {
        return Fail(Cat("Restore answered OK but ", destination.string(), " holds ",
                        restored.str().size(), " bytes that differ from the segment archived"));
      }
      done.push_back("restored it identically");
      std::filesystem::remove(destination, ec);
    }
    absl::Status missing = client.RestoreWal(cluster, kMissingSegment, destination.string());
    if (missing.ok()) {
      return Fail(Cat("Restore of ", kMissingSegment,
                      ", which was never archived, answered OK: PostgreSQL would replay "
                      "whatever is at the destination (SEMANTICS 3.5)"));
    }
    if (std::filesystem::exists(destination)) {
      warnings.push_back(Cat("Restore of a missing segment failed but left a file at ",
                             destination.string(),
                             " (tolerated: PostgreSQL ignores the file when restore_command "
                             "fails; SEMANTICS 3.5)"));
      std::filesystem::remove(destination, ec);
    }
    done.push_back(
        Cat("a missing segment gives ", absl::StatusCodeToString(missing.code()),
            missing.code() == absl::StatusCode::kNotFound ? "" : " (NOT_FOUND is the convention)"));
  }
  if (h.Advertises(Rpc::kSetFirstRequired)) {
    absl::Status s = client.SetFirstRequired(cluster, kTestSegment);
    if (IsTransportFailure(s) || s.code() == absl::StatusCode::kUnimplemented) {
      warnings.push_back(
          Cat("SetFirstRequired: ", StatusText(s), NotCalledReason(Rpc::kSetFirstRequired)));
    } else {
      done.push_back(Cat("SetFirstRequired answered ", StatusText(s)));
    }
  }
  std::filesystem::remove(segment, ec);
  if (!warnings.empty()) return Warn(JoinProblems(warnings));
  return Pass(absl::StrJoin(done, "; "));
}

Verdict BackupResult(CheckEnv& env) {
  if (!env.handshake().Advertises(Rpc::kBackup)) return Skip("Backup is not advertised");
  if (!env.options().run_backup) {
    return Skip("takes a real backup: pass --backup to run it");
  }
  const PluginClient client = env.client().WithTimeout(env.options().long_call_timeout);
  const Json backup = env.backup();
  std::map<std::string, std::string> parameters = env.options().backup_parameters;
  auto result = client.Backup(env.cluster(), backup, parameters);
  if (!result.ok()) {
    return Fail(Cat("Backup: ", StatusText(result.status()),
                    " (the Backup is marked failed; SEMANTICS 3.6)", ParameterHint(env)));
  }
  // The operator copies the answer into the Backup status (SEMANTICS 3.6).
  Findings found;
  constexpr char kCopied[] = " (the operator stores it in the Backup status; SEMANTICS 3.6)";
  if (result->backup_id().empty()) {
    found.warnings.push_back(
        Cat("backup_id is empty (tolerated: stored as an empty "
            "status.backupId; SEMANTICS 3.6)"));
  }
  if (result->started_at() <= 0) {
    found.failures.push_back(Cat("started_at is ", result->started_at(),
                                 ": Unix seconds expected, 0 is stored as 1970-01-01", kCopied));
  }
  if (result->stopped_at() <= 0) {
    found.failures.push_back(Cat("stopped_at is ", result->stopped_at(),
                                 ": Unix seconds expected, 0 is stored as 1970-01-01", kCopied));
  } else if (result->stopped_at() < result->started_at()) {
    found.warnings.push_back(
        "stopped_at is before started_at (tolerated: stored as it is; SEMANTICS 3.6)");
  }
  if (result->started_at() > 100000000000) {
    found.failures.push_back(
        Cat("started_at looks like milliseconds, not seconds: a date thousands of years ahead",
            kCopied));
  }
  return found.Conclude(Cat("backup \"", result->backup_id(), "\", ",
                            result->stopped_at() - result->started_at(),
                            " s, online=", result->online() ? "true" : "false"));
}

Verdict RestoreJobResult(CheckEnv& env) {
  if (!env.handshake().Advertises(Rpc::kRestoreJob)) {
    return Skip("RestoreJobHooks KIND_RESTORE is not advertised");
  }
  if (!env.options().run_restore_job) {
    return Skip("restores PGDATA where the plugin runs: pass --restore-job to run it");
  }
  const PluginClient client = env.client().WithTimeout(env.options().long_call_timeout);
  auto result = client.RestoreJob(env.recovery_cluster(), false);
  if (!result.ok()) {
    return Fail(Cat("Restore: ", StatusText(result.status()), " (the job fails; SEMANTICS 3.7)",
                    ParameterHint(env)));
  }
  Findings found;
  if (result->restore_config().find("restore_command") == std::string::npos) {
    found.failures.push_back(
        "restore_config has no restore_command: PostgreSQL could not fetch WAL during recovery "
        "(SEMANTICS 3.7)");
  }
  for (const std::string& env_entry : result->envs()) {
    const auto eq = env_entry.find('=');
    if (eq == std::string::npos || eq == 0) {
      found.warnings.push_back(Cat("envs entry \"", Abbreviated(env_entry),
                                   "\" is not NAME=VALUE (tolerated: it is passed to the recovery "
                                   "process as it is; SEMANTICS 3.7)"));
    }
  }
  return found.Conclude(Cat("restore_config with a restore_command, ",
                            Plural(static_cast<std::size_t>(result->envs_size()),
                                   "environment variable", "environment variables")));
}

// concurrency ------------------------------------------------------------------------

struct ConcurrentCall {
  std::string label;
  std::function<absl::StatusOr<Json>(const PluginClient&)> run;
};

std::vector<ConcurrentCall> ConcurrentCalls(const CheckEnv& env) {
  const HandshakeResult& h = env.handshake();
  std::vector<ConcurrentCall> calls;
  calls.push_back({"Probe", [](const PluginClient& c) -> absl::StatusOr<Json> {
                     absl::Status s = c.Probe();
                     if (!s.ok()) return s;
                     return Json();
                   }});
  const Json cluster = env.cluster();
  for (const LifecycleCall& call : LifecycleCalls(h)) {
    if (call.operation != LifecycleOperation::kEvaluate &&
        call.operation != LifecycleOperation::kCreate) {
      continue;
    }
    const Json object = env.object(call.group, call.kind);
    calls.push_back({Cat("LifecycleHook(", call.Label(), ")"),
                     [call, cluster, object](const PluginClient& c) -> absl::StatusOr<Json> {
                       auto r = c.LifecycleHook(call.operation, cluster, object);
                       if (!r.ok()) return r.status();
                       return r->json();
                     }});
    break;
  }
  for (Rpc rpc : {Rpc::kSetStatusInCluster, Rpc::kEnrichConfiguration, Rpc::kDefineMetrics,
                  Rpc::kCollectMetrics, Rpc::kPreReconcile, Rpc::kWalStatus}) {
    if (!h.Advertises(rpc)) continue;
    const CheckEnv* e = &env;
    calls.push_back(
        {std::string(NameOf(rpc)), [e, rpc](const PluginClient& c) -> absl::StatusOr<Json> {
           absl::Status s = CallWithFixtures(*e, c, rpc);
           if (!s.ok()) return s;
           return Json();
         }});
  }
  return calls;
}

Verdict Concurrency(CheckEnv& env) {
  if (std::optional<Verdict> unusable = HandshakeFailed(env)) return *unusable;
  const int connections = std::max(2, env.options().connections);
  const std::vector<ConcurrentCall> calls = ConcurrentCalls(env);
  // What each call answers alone: the reference.
  std::vector<absl::StatusOr<Json>> alone;
  for (const ConcurrentCall& call : calls) alone.push_back(call.run(env.client()));

  std::latch connected(connections);
  std::mutex mu;
  std::vector<std::string> problems;
  std::vector<std::thread> threads;
  for (int i = 0; i < connections; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<PluginClient> client = env.Connect();
      connected.arrive_and_wait();  // everyone connected: fire together
      if (!client.ok()) {
        std::lock_guard lock(mu);
        problems.push_back(Cat("connection ", i + 1, ": ", StatusText(client.status())));
        return;
      }
      std::vector<std::future<absl::StatusOr<Json>>> in_flight;
      for (const ConcurrentCall& call : calls) {
        in_flight.push_back(
            std::async(std::launch::async, [&call, &client] { return call.run(*client); }));
      }
      for (std::size_t c = 0; c < calls.size(); ++c) {
        absl::StatusOr<Json> result = in_flight[c].get();
        std::string problem;
        if (result.ok() != alone[c].ok()) {
          problem = result.ok() ? Cat(calls[c].label, " succeeded, but fails when called alone")
                                : Cat(calls[c].label, " failed (", StatusText(result.status()),
                                      ") but succeeds when called alone");
        } else if (result.ok() && *result != *alone[c]) {
          problem = Cat(calls[c].label, " answered differently than alone (",
                        DescribeJsonDifference(*alone[c], *result), ")");
        }
        if (!problem.empty()) {
          std::lock_guard lock(mu);
          problems.push_back(Cat("connection ", i + 1, ": ", problem));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  if (!problems.empty()) {
    return Fail(Cat(Plural(problems.size(), "problem", "problems"), " with ", connections,
                    " connections and ", connections * static_cast<int>(calls.size()),
                    " calls in flight at once: ", JoinProblems(problems, 3),
                    " (the operator keeps up to 5 connections per plugin and reconciles in "
                    "parallel; SEMANTICS 1.4)"));
  }
  return Pass(Cat(connections, " connections, each with its own handshake, then ",
                  connections * static_cast<int>(calls.size()),
                  " calls in flight at once: all answered as they do alone"));
}

// transport.* -----------------------------------------------------------------------

Verdict TransportRefuses(CheckEnv& env, ChannelSecurity security, const char* what) {
  const Endpoint& endpoint = env.options().endpoint;
  if (endpoint.transport != Endpoint::Transport::kTcp) {
    return Skip("the plugin is reached over a Unix socket, which is plaintext by design");
  }
  auto channel = MakeChannel(endpoint, env.client_options(), security);
  if (!channel.ok()) return Fail(Cat("cannot build the channel: ", StatusText(channel.status())));
  ClientOptions options = env.client_options();
  std::string answer;
  const absl::Status status =
      RawCall(*channel, endpoint, options, kGetPluginMetadataMethod, std::string(), &answer);
  if (status.ok()) {
    return Warn(Cat("the plugin answered GetPluginMetadata to ", what,
                    ": whoever reaches its Service can call it (tolerated: the operator itself "
                    "always connects with TLS 1.3 and its client certificate, SEMANTICS 1.3; "
                    "plugins built on the Go helper library require both)"));
  }
  if (status.code() == absl::StatusCode::kDeadlineExceeded) {
    return Pass(Cat("refused ", what, " (no answer within the call timeout)"));
  }
  return Pass(Cat("refused ", what, " (", absl::StatusCodeToString(status.code()), ")"));
}

Verdict TransportPlaintext(CheckEnv& env) {
  return TransportRefuses(env, ChannelSecurity::kPlaintext, "a plaintext HTTP/2 client");
}

Verdict TransportClientCertificate(CheckEnv& env) {
  return TransportRefuses(env, ChannelSecurity::kServerOnlyTls,
                          "a TLS client without a certificate");
}

// bad-input.* ---------------------------------------------------------------------------

// RPCs that must reject a Cluster they cannot read: they act on it. Define
// and WAL Status may ignore it; they only have to survive.
bool MustRejectBadCluster(Rpc rpc) { return rpc != Rpc::kDefineMetrics && rpc != Rpc::kWalStatus; }

struct BadDocument {
  std::string label;
  Document document;
};

std::vector<BadDocument> MalformedDocuments(const Json& cluster) {
  std::vector<BadDocument> out;
  std::string text = *ToJson(cluster);
  out.push_back({"truncated JSON",
                 Document::Raw(text.substr(0, std::min<std::size_t>(text.size() / 2, 120)))});
  // Go's decoder stops at 10000 levels; recursive parsers overflow their stack.
  constexpr std::size_t kDepth = 100000;
  out.push_back({"JSON nested 100000 levels deep",
                 Document::Raw(std::string(kDepth, '[') + std::string(kDepth, ']'))});
  return out;
}

// Sends `bad` where a Cluster (or, for lifecycle hooks, the object) is
// expected, for every advertised RPC without side effects.
Verdict BadInput(CheckEnv& env, const std::vector<BadDocument>& bad, const char* what) {
  const HandshakeResult& h = env.handshake();
  const PluginClient client = env.client().Unchecked();
  std::vector<std::string> problems;
  int calls = 0;
  // After each bad call the plugin must still answer Probe, on a connection
  // of its own (a crash closes them all).
  auto still_alive = [&](const std::string& label) -> bool {
    absl::StatusOr<PluginClient> fresh =
        PluginClient::Open(env.options().endpoint, env.client_options());
    absl::Status probe = fresh.ok() ? fresh->Probe() : fresh.status();
    if (probe.ok()) return true;
    problems.push_back(Cat("after ", label, " the plugin no longer answers Probe (",
                           StatusText(probe), "): it crashed or hung"));
    return false;
  };
  auto judge = [&](const std::string& label, const absl::Status& status, bool must_reject) {
    ++calls;
    if (IsTransportFailure(status)) {
      problems.push_back(Cat(label, ": ", StatusText(status)));
    } else if (status.ok() && must_reject) {
      problems.push_back(Cat(label, " answered OK"));
    }
    return still_alive(label);
  };
  // The operator only sends Clusters and objects that Go's encoding/json
  // wrote from its typed objects (SEMANTICS 3.0, 4.2): what a plugin does
  // with anything else cannot make it fail.
  const std::string tolerated =
      Cat(" (tolerated: the operator only sends what Go's encoding/json writes from its typed "
          "objects, SEMANTICS 3.0, 4.2; ",
          what,
          " should get an error status, and must not crash or hang the plugin, but the operator "
          "never sends it)");

  for (const BadDocument& doc : bad) {
    for (Rpc rpc : AllRpcs()) {
      if (!h.Advertises(rpc) || HasSideEffects(rpc)) continue;
      if (rpc == Rpc::kLifecycleHook) {
        for (const LifecycleCall& call : LifecycleCalls(h)) {
          const Json object = env.object(call.group, call.kind);
          if (!judge(Cat("LifecycleHook(", call.Label(), ") with ", doc.label, " as the Cluster"),
                     client.LifecycleHook(call.operation, doc.document, object).status(), true)) {
            return Warn(Cat(JoinProblems(problems), tolerated));
          }
          if (doc.document.is_json()) continue;  // a well-formed object of the wrong kind
          if (!judge(Cat("LifecycleHook(", call.Label(), ") with ", doc.label, " as the object"),
                     client.LifecycleHook(call.operation, env.cluster(), doc.document).status(),
                     true)) {
            return Warn(Cat(JoinProblems(problems), tolerated));
          }
        }
        continue;
      }
      if (!judge(Cat(ShortName(rpc), " with ", doc.label, " as the Cluster"),
                 CallWithFixtures(env, client, rpc, &doc.document), MustRejectBadCluster(rpc))) {
        return Warn(Cat(JoinProblems(problems), tolerated));
      }
    }
  }
  if (calls == 0) return Skip("no advertised RPC without side effects takes a Cluster");
  if (!problems.empty()) return Warn(Cat(JoinProblems(problems), tolerated));
  return Pass(Cat(Plural(static_cast<std::size_t>(calls), "call", "calls"), " with ", what,
                  " got an error status (or were safely ignored), and the plugin kept answering "
                  "Probe"));
}

Verdict BadInputMalformedJson(CheckEnv& env) {
  return BadInput(env, MalformedDocuments(env.cluster()), "malformed JSON");
}

Verdict BadInputWrongKind(CheckEnv& env) {
  std::vector<BadDocument> bad;
  bad.push_back({"a Pod", Document(env.pod())});
  return BadInput(env, bad, "a Pod in place of the Cluster");
}

}  // namespace

const std::vector<CheckDefinition>& CheckDefinitions() {
  static const std::vector<CheckDefinition>* const checks = new std::vector<CheckDefinition>{
      {"metadata.name",
       "the name is DNS-like, at most 63 characters, and equals the socket file name "
       "(Unix) and --plugin-name",
       MetadataName},
      {"metadata.version", "the version is set", MetadataVersion},
      {"capabilities.entries", "every capability entry has its oneof or kind set to a known value",
       CapabilitiesEntries},
      {"capabilities.services",
       "every advertised service answers its GetCapabilities (the operator's handshake order)",
       CapabilitiesServices},
      {"capabilities.rpcs",
       "every advertised RPC answers something other than UNIMPLEMENTED on a valid request",
       CapabilitiesRpcs},
      {"probe", "Probe answers OK within --probe-budget", ProbeCheck},
      {"operator.status", "SetStatusInCluster answers a JSON object or nothing", OperatorStatus},
      {"operator.validation",
       "ValidateCluster* answers validation errors with a path and a message", OperatorValidation},
      {"operator.mutate", "MutateCluster answers an applicable, idempotent patch", OperatorMutate},
      {"lifecycle.patch",
       "LifecycleHook patches are RFC 6902 against the object sent and keep apiVersion/kind",
       LifecyclePatch},
      {"lifecycle.deterministic", "EVALUATE gives the same result every time",
       LifecycleDeterministic},
      {"lifecycle.idempotent", "EVALUATE and CREATE applied to their own result change nothing",
       LifecycleIdempotent},
      {"reconciler.hooks", "Pre/Post answer a known behavior and a non-negative requeue",
       ReconcilerHooks},
      {"postgres.configuration",
       "EnrichConfiguration answers the complete map or nothing, deterministically",
       PostgresConfigurationCheck},
      {"metrics.consistent", "Define and Collect agree (names, label counts, value types)",
       MetricsConsistent},
      {"wal.archive-restore",
       "(opt-in: --wal-dir) Archive then Restore return the same segment; a missing one fails",
       WalArchiveRestore},
      {"backup.result", "(opt-in: --backup) Backup fills backup_id and Unix-second timestamps",
       BackupResult},
      {"restore-job.result",
       "(opt-in: --restore-job) Restore answers a configuration with a restore_command",
       RestoreJobResult},
      {"concurrency", "several connections with calls in flight at once answer as calls alone",
       Concurrency},
      {"transport.plaintext", "(TCP) a plaintext client is refused", TransportPlaintext},
      {"transport.client-certificate", "(TCP) a TLS client without a certificate is refused",
       TransportClientCertificate},
      {"bad-input.malformed-json",
       "malformed JSON gets an error status, not a crash or a hang; Probe still answers",
       BadInputMalformedJson},
      {"bad-input.wrong-kind",
       "a Pod sent as the Cluster gets an error status; Probe still answers", BadInputWrongKind},
  };
  return *checks;
}

}  // namespace cnpgi::testing::internal
