// The checks of the calls the operator makes once the plugin is known:
// operator.*, lifecycle.*, reconciler.hooks, postgres.configuration and
// metrics.consistent (SEMANTICS.md section 3).
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

}  // namespace

std::vector<CheckDefinition> CallChecks() {
  return {
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
  };
}

}  // namespace cnpgi::testing::internal
