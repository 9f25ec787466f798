// Not part of the API: the conformance checks and what they share.
#ifndef CNPGI_SRC_TESTING_CHECKS_H_
#define CNPGI_SRC_TESTING_CHECKS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cnpgi/testing/conformance.h"
#include "cnpgi/testing/plugin_client.h"

namespace cnpgi::testing::internal {

struct Verdict {
  CheckOutcome outcome;
  std::string message;
};
inline Verdict Pass(std::string message) { return {CheckOutcome::kPass, std::move(message)}; }
inline Verdict Fail(std::string message) { return {CheckOutcome::kFail, std::move(message)}; }
inline Verdict Skip(std::string message) { return {CheckOutcome::kSkip, std::move(message)}; }
inline Verdict Warn(std::string message) { return {CheckOutcome::kWarn, std::move(message)}; }

// What a check found: failures (the operator would fail, mishandle or
// misbehave), warnings (a practice the operator tolerates; each says why it
// is tolerated) and notes (worth knowing, not a problem).
struct Findings {
  std::vector<std::string> failures;
  std::vector<std::string> warnings;
  std::vector<std::string> notes;
  // FAIL with the failures (the warnings appended), else WARN with the
  // warnings, else PASS with `pass_message` and the notes.
  Verdict Conclude(const std::string& pass_message) const;
};

// What every check gets: the options, a client whose handshake has run
// (possibly with failures), and the fixtures configured for the plugin.
class CheckEnv {
 public:
  CheckEnv(const ConformanceOptions& options, ClientOptions client_options, PluginClient client,
           absl::Status handshake_status);

  const ConformanceOptions& options() const { return options_; }
  const ClientOptions& client_options() const { return client_options_; }
  const PluginClient& client() const { return client_; }
  const HandshakeResult& handshake() const { return client_.handshake(); }
  const absl::Status& handshake_status() const { return handshake_status_; }

  // A new connection with its own handshake.
  absl::StatusOr<PluginClient> Connect() const;

  // Fixtures (or the objects of the options), configured for the plugin.
  nlohmann::json cluster() const;
  nlohmann::json recovery_cluster() const;
  nlohmann::json pod() const;
  nlohmann::json job() const;
  nlohmann::json backup() const;
  nlohmann::json object(const std::string& group, const std::string& kind) const;
  std::map<std::string, std::string> postgres_configuration() const;

 private:
  const ConformanceOptions& options_;
  ClientOptions client_options_;
  PluginClient client_;
  absl::Status handshake_status_;
};

using CheckFunction = Verdict (*)(CheckEnv&);

struct CheckDefinition {
  const char* name;
  const char* description;
  CheckFunction run;
};

// Every check, in the order they run.
const std::vector<CheckDefinition>& CheckDefinitions();

// The checks by subject, each list in the order they run, each defined in
// the file named.
std::vector<CheckDefinition> HandshakeChecks();   // checks_handshake.cc
std::vector<CheckDefinition> CallChecks();        // checks_calls.cc
std::vector<CheckDefinition> SideEffectChecks();  // checks_side_effects.cc
std::vector<CheckDefinition> RobustnessChecks();  // checks_robustness.cc

// One lifecycle call the operator could make: a subscription's group and
// kind with one of its operations.
struct LifecycleCall {
  std::string group;
  std::string kind;
  LifecycleOperation operation;
  std::string Label() const;  // "EVALUATE core/Pod"
};
// "WAL/Archive", "Operator/SetStatusInCluster".
std::string ShortName(Rpc rpc);

// The calls to exercise (DELETE and DEREGISTER are left out: a DELETE hook
// may clean up real resources, DEREGISTER is never sent).
std::vector<LifecycleCall> LifecycleCalls(const HandshakeResult& handshake);

// Calls `rpc` with a valid request built from the fixtures (not for
// LifecycleHook, which needs a LifecycleCall). Side effects are the
// caller's responsibility.
// With `cluster_override`, that document is sent in place of the Cluster.
absl::Status CallWithFixtures(const CheckEnv& env, const PluginClient& client, Rpc rpc,
                              const Document* cluster_override = nullptr);

// RPCs with side effects on the plugin's storage, run only when enabled.
bool HasSideEffects(Rpc rpc);

// Whether CloudNativePG calls `rpc` at all today. It does not call
// ValidateClusterCreate/Change, MutateCluster, Deregister (SEMANTICS 3.1),
// WAL Status or SetFirstRequired (3.5): what they answer cannot make the
// operator fail, so their problems are warnings.
bool OperatorCalls(Rpc rpc);
// " (CloudNativePG does not call <rpc> today: SEMANTICS 3.1)", for warnings.
std::string NotCalledReason(Rpc rpc);

// The first `limit` problems joined with "; ", and how many more there are.
std::string JoinProblems(const std::vector<std::string>& problems, std::size_t limit = 4);

// The status's code name and message, e.g. "UNIMPLEMENTED: ...".
std::string StatusText(const absl::Status& status);

// "3 calls", "1 call".
std::string Plural(std::size_t n, const char* one, const char* many);

// A hint for failures that missing plugin parameters may explain ("" when
// parameters were given).
std::string ParameterHint(const CheckEnv& env);

// For checks that open connections of their own, which need the handshake
// to succeed: a SKIP verdict when it failed.
std::optional<Verdict> HandshakeFailed(const CheckEnv& env);

// A transport-level failure: the plugin crashed, closed the connection or
// did not answer in time.
bool IsTransportFailure(const absl::Status& status);

}  // namespace cnpgi::testing::internal

#endif  // CNPGI_SRC_TESTING_CHECKS_H_
