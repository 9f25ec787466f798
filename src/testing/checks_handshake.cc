// The checks of the operator's handshake: metadata.*, capabilities.* and
// probe (SEMANTICS.md sections 1-2).
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

namespace cnpgi::test::internal {
namespace {

using Json = nlohmann::json;

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
  for (Service service : internal::HandshakeOrder()) {
    if (!h.Advertises(service)) continue;
    const std::string_view method = internal::CapabilitiesMethodOf(service);
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

}  // namespace

std::vector<CheckDefinition> HandshakeChecks() {
  return {
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
  };
}

}  // namespace cnpgi::test::internal
