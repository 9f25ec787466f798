// The checks of how the plugin holds up: concurrent calls, transport
// security (TCP) and bad input.
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
#include "testing/stale_connect_errno.h"

namespace cnpgi::test::internal {
namespace {

using Json = nlohmann::json;

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
  absl::Status status;
  std::string answer;
  // A connection gRPC failed before it reached the plugin was not refused by
  // it (stale_connect_errno.h): tried again on a new channel.
  for (int attempt = 0; attempt <= kStaleConnectRetries; ++attempt) {
    auto channel = MakeChannel(endpoint, env.client_options(), security);
    if (!channel.ok()) return Fail(Cat("cannot build the channel: ", StatusText(channel.status())));
    status = RawCall(*channel, endpoint, env.client_options(), kGetPluginMetadataMethod,
                     std::string(), &answer);
    if (!IsStaleConnectErrno(endpoint, status)) break;
  }
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

std::vector<CheckDefinition> RobustnessChecks() {
  return {
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
}

}  // namespace cnpgi::test::internal
