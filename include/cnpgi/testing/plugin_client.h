// An operator-like client for CNPG-I plugins: it connects the way the
// CloudNativePG operator and instance manager do, runs their handshake, and
// offers one typed call per RPC, so that tests (and the conformance checker)
// talk to a plugin exactly as CloudNativePG will.
//
//   auto client = cnpgi::test::PluginClient::Connect(
//       cnpgi::test::Endpoint::Unix("/plugins/example.cnpgi.io"));
//   if (!client.ok()) return client.status();          // says which step failed
//   const auto& fx = client->fixtures();                // Cluster configured for it
//   auto pod = client->LifecycleHook(cnpgi::LifecycleOperation::kEvaluate,
//                                    fx.cluster(), fx.pod());
//
// Transport (SEMANTICS 1.1-1.3): over a Unix socket, plaintext; over TCP,
// TLS with the client certificate presented, the plugin's own server
// certificate as the only trusted root, and the short Service name as the
// name the certificate must carry. Each PluginClient::Open/Connect makes its
// own connection, like each connection of the operator's pool.
//
// Every call has a deadline (ClientOptions::call_timeout, 5 s by default,
// and never beyond ClientOptions::deadline), so nothing can hang. Errors are
// absl::Status with the plugin's gRPC code and a message that starts with
// the RPC ("cnpgi.wal.v1.WAL/Archive: NOT_FOUND: ...").
//
// Thread safety: calls may be made from several threads at once on one
// client and its copies (they share the connection). Handshake() must not
// run concurrently with other calls on the same client.
#ifndef CNPGI_TESTING_PLUGIN_CLIENT_H_
#define CNPGI_TESTING_PLUGIN_CLIENT_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cnpgi/backup/v1/backup.pb.h"
#include "cnpgi/identity/v1/identity.pb.h"
#include "cnpgi/identity/v1/postgres.pb.h"
#include "cnpgi/lifecycle_service.h"
#include "cnpgi/metrics/v1/metrics.pb.h"
#include "cnpgi/object.h"
#include "cnpgi/operator/v1/operator.pb.h"
#include "cnpgi/operator_lifecycle/v1/operator_lifecycle.pb.h"
#include "cnpgi/postgres_service.h"
#include "cnpgi/reconciler/v1/reconciler.pb.h"
#include "cnpgi/testing/fixtures.h"
#include "cnpgi/testing/json_patch.h"
#include "cnpgi/validation.h"
#include "cnpgi/wal/v1/restore_job.pb.h"
#include "cnpgi/wal/v1/wal.pb.h"

namespace google::protobuf {
class Message;
}  // namespace google::protobuf

namespace grpc {
class Channel;
}  // namespace grpc

namespace cnpgi::test {

// The certificates of a TCP connection, PEM text.
struct TlsCredentials {
  std::string client_cert_pem;  // presented to the plugin (the operator's tls.crt)
  std::string client_key_pem;   // its private key
  std::string server_cert_pem;  // the plugin's certificate: the only trusted root
  // The name the server certificate must carry (a DNS SAN). Empty: the first
  // label of the host in the address, as the operator verifies the short
  // Service name while dialling <service>.<namespace>.svc.
  std::string server_name;

  // Reads the three files. InvalidArgument naming the file (and the flag
  // meaning of it) when one cannot be read or does not hold PEM of the
  // expected type.
  static absl::StatusOr<TlsCredentials> FromFiles(const std::string& client_cert_file,
                                                  const std::string& client_key_file,
                                                  const std::string& server_cert_file,
                                                  std::string server_name = "");
};

// Where a plugin listens.
struct Endpoint {
  enum class Transport { kUnix, kTcp };

  static Endpoint Unix(std::string socket_path);
  // `address` is host:port ("barman-cloud.cnpg-system.svc:9090",
  // "127.0.0.1:9090", "[::1]:9090").
  static Endpoint Tcp(std::string address, TlsCredentials tls);

  Transport transport = Transport::kUnix;
  std::string socket_path;  // kUnix
  std::string address;      // kTcp
  TlsCredentials tls;       // kTcp

  // The TLS name checked for kTcp (tls.server_name or derived).
  std::string ServerName() const;
  // "unix:/plugins/x" or "127.0.0.1:9090 (mTLS, server name x)".
  std::string Describe() const;
};

struct ClientOptions {
  // Deadline of each call.
  absl::Duration call_timeout = absl::Seconds(5);
  // No call runs past this point in time (the conformance checker's global
  // timeout); calls started after it fail with DEADLINE_EXCEEDED at once.
  absl::Time deadline = absl::InfiniteFuture();
  // The plugin's parameters in the fixture Cluster (spec.plugins[].parameters).
  std::map<std::string, std::string> plugin_parameters;
  // Refuse (FailedPrecondition, before sending anything) calls of RPCs the
  // handshake did not advertise: the operator never makes them, so a test
  // making one is testing something that cannot happen. Lifecycle calls must
  // match a subscription (group, kind, operation). Off: send anything.
  bool require_advertised = true;
  // Largest answer accepted. The operator's client keeps gRPC's 4 MiB.
  int max_receive_message_size = 4 << 20;
};

// The CNPG-I services (values of the protocol's PluginCapability.Service.Type).
enum class Service {
  kOperator = 1,
  kWal = 2,
  kBackup = 3,
  kLifecycle = 4,
  kReconcilerHooks = 5,
  kRestoreJob = 6,
  kPostgres = 7,
  kMetrics = 10,
};

// Every plugin RPC (not the handshake ones).
enum class Rpc {
  kValidateClusterCreate,
  kValidateClusterChange,
  kMutateCluster,
  kSetStatusInCluster,
  kDeregister,
  kLifecycleHook,
  kArchiveWal,
  kRestoreWal,
  kWalStatus,
  kSetFirstRequired,
  kBackup,
  kPreReconcile,
  kPostReconcile,
  kRestoreJob,
  kEnrichConfiguration,
  kDefineMetrics,
  kCollectMetrics,
};

// All of them, in the order above.
const std::vector<Rpc>& AllRpcs();
// The service an RPC belongs to.
Service ServiceOf(Rpc rpc);
// The full method path, e.g. "/cnpgi.wal.v1.WAL/Archive".
std::string_view MethodOf(Rpc rpc);
// The method's name for messages, e.g. "cnpgi.wal.v1.WAL/Archive".
std::string_view NameOf(Rpc rpc);
// The protocol name of a service type, e.g. "TYPE_WAL_SERVICE".
std::string_view NameOf(Service service);

// Method paths of the Identity service.
inline constexpr std::string_view kGetPluginMetadataMethod =
    "/cnpgi.identity.v1.Identity/GetPluginMetadata";
inline constexpr std::string_view kGetPluginCapabilitiesMethod =
    "/cnpgi.identity.v1.Identity/GetPluginCapabilities";
inline constexpr std::string_view kProbeMethod = "/cnpgi.identity.v1.Identity/Probe";

// What the handshake learnt. Each optional is set when the service was
// advertised and its GetCapabilities answered.
struct HandshakeResult {
  identity::v1::GetPluginMetadataResponse metadata;
  identity::v1::GetPluginCapabilitiesResponse capabilities;
  std::optional<operator_::v1::OperatorCapabilitiesResult> operator_capabilities;
  std::optional<operator_lifecycle::v1::OperatorLifecycleCapabilitiesResponse>
      lifecycle_capabilities;
  std::optional<wal::v1::WALCapabilitiesResult> wal_capabilities;
  std::optional<backup::v1::BackupCapabilitiesResult> backup_capabilities;
  std::optional<reconciler::v1::ReconcilerHooksCapabilitiesResult> reconciler_capabilities;
  std::optional<wal::v1::RestoreJobHooksCapabilitiesResult> restore_job_capabilities;
  std::optional<identity::v1::PostgresCapabilitiesResult> postgres_capabilities;
  std::optional<metrics::v1::MetricsCapabilitiesResult> metrics_capabilities;

  // The methods called, in order, and how each ended.
  struct Step {
    std::string method;
    absl::Status status;
    absl::Duration duration;
  };
  std::vector<Step> steps;
  // True when every step succeeded: what the operator needs to use the plugin.
  bool complete = false;

  const std::string& name() const { return metadata.name(); }
  const std::string& version() const { return metadata.version(); }

  // Advertised in GetPluginCapabilities.
  bool Advertises(Service service) const;
  bool DeclaresInstanceSidecarInjection() const;
  bool DeclaresJobSidecarInjection() const;
  // Advertised by its service (whose capabilities were answered): the
  // operator may call it. Lifecycle: any subscription; Pre/Post: any kind;
  // metrics: TYPE_METRICS covers Define and Collect.
  bool Advertises(Rpc rpc) const;
  // A lifecycle subscription covers this API group ("" for core), kind and
  // operation.
  bool Subscribes(std::string_view group, std::string_view kind,
                  LifecycleOperation operation) const;
  // Reconciler hooks subscribed to KIND_CLUSTER / KIND_BACKUP.
  bool HooksClusters() const;
  bool HooksBackups() const;

  // The status.pluginStatus[] capability lists the operator would record.
  std::vector<std::string> IdentityCapabilityNames() const;
  std::vector<std::string> OperatorCapabilityNames() const;
  std::vector<std::string> WalCapabilityNames() const;
  std::vector<std::string> BackupCapabilityNames() const;
  std::vector<std::string> RestoreJobCapabilityNames() const;
};

// The bytes of a JSON document sent to a plugin: from a JSON value, an
// Object (as parsed or edited), a PatchedObject (its result, to chain calls
// as the operator chains EVALUATE and CREATE), or raw bytes, possibly not
// JSON at all (to test how a plugin handles bad input).
class Document {
 public:
  Document(const nlohmann::json& value);   // NOLINT: implicit on purpose
  Document(const Object& object);          // NOLINT
  Document(const PatchedObject& patched);  // NOLINT
  static Document Raw(std::string bytes);

  // The bytes, or why the value has no JSON text (invalid UTF-8, NaN).
  const absl::StatusOr<std::string>& bytes() const { return bytes_; }
  // The parsed value (null for raw bytes that are not JSON).
  const nlohmann::json& value() const { return value_; }
  bool is_json() const { return is_json_; }

 private:
  Document() = default;
  absl::StatusOr<std::string> bytes_;
  nlohmann::json value_;
  bool is_json_ = true;
};

// EnrichConfiguration's answer, and the configuration the instance manager
// would use after it.
struct EnrichedConfiguration {
  // The map the plugin answered; empty for "no change".
  std::map<std::string, std::string> answer;
  // The configuration in effect: `answer`, or the map sent when empty.
  std::map<std::string, std::string> configuration;
  bool changed() const { return !answer.empty(); }
};

// One collected sample matched to its definition, as the instance manager's
// exporter does on a scrape.
struct MetricSample {
  std::string name;
  metrics::v1::MetricType::Type type = metrics::v1::MetricType::TYPE_UNSPECIFIED;
  // Variable labels (defined names -> collected values) and constant ones.
  std::map<std::string, std::string> labels;
  double value = 0;
};

class PluginClient {
 public:
  // Opens a connection (lazily: nothing is sent yet). For TCP, fails when the
  // certificates are unusable; for Unix, when the path is too long.
  static absl::StatusOr<PluginClient> Open(const Endpoint& endpoint, ClientOptions options = {});
  // Open, then Handshake(). The error says which step failed and why (no
  // socket there, nobody listening, TLS refused, not a gRPC server, ...).
  static absl::StatusOr<PluginClient> Connect(const Endpoint& endpoint, ClientOptions options = {});

  // The operator's handshake on a new connection: GetPluginMetadata,
  // GetPluginCapabilities, GetCapabilities of each advertised service in the
  // operator's order, then Probe. Every step runs even after a failure, so
  // that handshake() shows everything; the first failure is returned (the
  // operator gives up there). Updates fixtures(). Over TCP, a first call
  // that gRPC 1.51 failed inside connect(2), before anything reached the
  // plugin (a known gRPC defect, fixed in later releases), is tried again on
  // a new connection, at most twice.
  absl::Status Handshake();
  // The last handshake's results (empty before the first).
  const HandshakeResult& handshake() const;
  // Fixtures configured for this plugin: its metadata name and the
  // parameters of ClientOptions, with its capabilities in the Cluster status.
  const Fixtures& fixtures() const;

  const Endpoint& endpoint() const;
  const ClientOptions& options() const;
  // A copy sharing the connection, with another call timeout (e.g. for a
  // Backup that takes minutes).
  PluginClient WithTimeout(absl::Duration call_timeout) const;
  // A copy sharing the connection that does not check what is advertised.
  PluginClient Unchecked() const;

  // Raw unary call of any method, with the deadline. The generic form for
  // what the typed calls below do not cover.
  absl::Status Call(std::string_view method, const google::protobuf::Message& request,
                    google::protobuf::Message& response) const;
  template <class Response, class Request>
  absl::StatusOr<Response> Call(std::string_view method, const Request& request) const {
    Response response;
    if (absl::Status s = Call(method, request, response); !s.ok()) return s;
    return response;
  }
  // Raw bytes in, raw bytes out: for requests that are not valid protobuf.
  absl::StatusOr<std::string> CallBytes(std::string_view method, const std::string& request) const;

  // Identity.
  absl::StatusOr<identity::v1::GetPluginMetadataResponse> GetPluginMetadata() const;
  absl::StatusOr<identity::v1::GetPluginCapabilitiesResponse> GetPluginCapabilities() const;
  // OK or the plugin's error (`ready` is ignored, as the operator does).
  absl::Status Probe() const;

  // Operator.
  absl::StatusOr<std::vector<ValidationError>> ValidateClusterCreate(const Document& cluster) const;
  absl::StatusOr<std::vector<ValidationError>> ValidateClusterChange(
      const Document& old_cluster, const Document& new_cluster) const;
  absl::StatusOr<PatchedObject> MutateCluster(const Document& cluster) const;
  // nullopt for "no status" (an empty json_status); a JSON object, or a JSON
  // null (the operator decodes `null` into an empty map without error and
  // stores the text); FailedPrecondition for anything else, which the
  // operator rejects.
  absl::StatusOr<std::optional<nlohmann::json>> SetStatusInCluster(const Document& cluster) const;
  absl::Status Deregister(const Document& cluster) const;

  // OperatorLifecycle: the patch applied to `object`.
  absl::StatusOr<PatchedObject> LifecycleHook(LifecycleOperation operation, const Document& cluster,
                                              const Document& object) const;

  // ReconcilerHooks: `resource` is the Cluster or the Backup being reconciled.
  absl::StatusOr<reconciler::v1::ReconcilerHooksResult> PreReconcile(
      const Document& cluster, const Document& resource) const;
  absl::StatusOr<reconciler::v1::ReconcilerHooksResult> PostReconcile(
      const Document& cluster, const Document& resource) const;

  // WAL. `source_file` and `destination_file` are absolute paths, as the
  // instance manager sends them.
  absl::Status ArchiveWal(const Document& cluster, const std::string& source_file,
                          std::optional<bool> check_empty_wal_archive = false) const;
  absl::Status RestoreWal(
      const Document& cluster, const std::string& wal_name, const std::string& destination_file,
      wal::v1::WALRestoreRequest::Mode mode = wal::v1::WALRestoreRequest::MODE_RECOVERY) const;
  absl::StatusOr<wal::v1::WALStatusResult> WalStatus(const Document& cluster) const;
  absl::Status SetFirstRequired(const Document& cluster, const std::string& first_required) const;

  // Backup (`parameters` = the Backup's spec.pluginConfiguration.parameters).
  absl::StatusOr<backup::v1::BackupResult> Backup(
      const Document& cluster, const Document& backup,
      const std::map<std::string, std::string>& parameters = {}) const;

  // RestoreJobHooks.
  absl::StatusOr<wal::v1::RestoreResponse> RestoreJob(
      const Document& cluster, std::optional<bool> check_empty_wal_archive = false) const;

  // Postgres.
  absl::StatusOr<EnrichedConfiguration> EnrichConfiguration(
      ConfigurationOperation operation, const Document& cluster,
      const std::map<std::string, std::string>& configs) const;

  // Metrics.
  absl::StatusOr<metrics::v1::DefineMetricsResult> DefineMetrics(const Document& cluster) const;
  absl::StatusOr<metrics::v1::CollectMetricsResult> CollectMetrics(const Document& cluster) const;
  // Define then Collect, matched like the instance manager's exporter does:
  // FailedPrecondition naming the sample when one does not match a
  // definition (unknown name, wrong number of label values) or a definition
  // has no value type.
  absl::StatusOr<std::vector<MetricSample>> ScrapeMetrics(const Document& cluster) const;

  class State;

 private:
  explicit PluginClient(std::shared_ptr<State> state) : state_(std::move(state)) {}
  absl::Status CheckAdvertised(Rpc rpc) const;

  std::shared_ptr<State> state_;
};

// Matches a Collect answer to a Define answer as the exporter does; the
// error names the offending sample or definition.
absl::StatusOr<std::vector<MetricSample>> MatchMetrics(
    const metrics::v1::DefineMetricsResult& definitions,
    const metrics::v1::CollectMetricsResult& samples);

}  // namespace cnpgi::test

#endif  // CNPGI_TESTING_PLUGIN_CLIENT_H_
