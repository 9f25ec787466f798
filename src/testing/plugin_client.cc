#include "cnpgi/testing/plugin_client.h"

#include <errno.h>
#include <google/protobuf/empty.pb.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/str_join.h"
#include "cnpgi/json.h"
#include "testing/internal.h"
#include "testing/stale_connect_errno.h"

namespace cnpgi::test {

// Calls to a plugin: Document and PluginClient. The RPC table, Endpoint,
// HandshakeResult and metrics matching are in files of their own.

// Document -------------------------------------------------------------------

Document::Document(const nlohmann::json& value) : bytes_(ToJson(value)), value_(value) {}
Document::Document(const Object& object) : Document(object.json()) {}
Document::Document(const PatchedObject& patched) : Document(patched.json()) {}

Document Document::Raw(std::string bytes) {
  Document d;
  absl::StatusOr<nlohmann::json> parsed = ParseJson(bytes);
  d.is_json_ = parsed.ok();
  if (parsed.ok()) d.value_ = *std::move(parsed);
  d.bytes_ = std::move(bytes);
  return d;
}

// PluginClient ---------------------------------------------------------------

class PluginClient::State {
 public:
  Endpoint endpoint;
  ClientOptions options;
  std::shared_ptr<grpc::Channel> channel;
  std::shared_ptr<const HandshakeResult> handshake = std::make_shared<HandshakeResult>();
  std::shared_ptr<const Fixtures> fixtures;
};

namespace internal {

absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const Endpoint& endpoint,
                                                           const ClientOptions& options,
                                                           ChannelSecurity security) {
  grpc::ChannelArguments args;
  // A connection of its own, like each connection of the operator's pool;
  // gRPC would otherwise share one between channels with equal arguments.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt(GRPC_ARG_ENABLE_HTTP_PROXY, 0);
  args.SetMaxReceiveMessageSize(options.max_receive_message_size);
  if (endpoint.transport == Endpoint::Transport::kUnix) {
    if (endpoint.socket_path.empty()) {
      return absl::InvalidArgumentError("no socket path was given");
    }
    std::error_code ec;
    const std::filesystem::path absolute = std::filesystem::absolute(endpoint.socket_path, ec);
    const std::string path = ec ? endpoint.socket_path : absolute.string();
    if (path.size() >= sizeof(sockaddr_un::sun_path)) {
      return absl::InvalidArgumentError(internal::Cat("socket path ", path, " is ", path.size(),
                                                      " bytes long; Unix sockets allow at most ",
                                                      sizeof(sockaddr_un::sun_path) - 1));
    }
    return grpc::CreateCustomChannel(internal::Cat("unix:", path),
                                     grpc::InsecureChannelCredentials(), args);
  }
  if (endpoint.address.empty()) return absl::InvalidArgumentError("no address was given");
  if (endpoint.address.rfind(':') == std::string::npos || endpoint.address.back() == ':' ||
      endpoint.address.back() == ']') {
    return absl::InvalidArgumentError(
        internal::Cat("address \"", endpoint.address, "\" has no port (expected host:port)"));
  }
  if (security == ChannelSecurity::kPlaintext) {
    return grpc::CreateCustomChannel(endpoint.address, grpc::InsecureChannelCredentials(), args);
  }
  if (endpoint.tls.server_cert_pem.empty()) {
    return absl::InvalidArgumentError(
        "TCP needs the plugin's server certificate (the only trusted root)");
  }
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = endpoint.tls.server_cert_pem;
  if (security == ChannelSecurity::kMutualTls) {
    if (endpoint.tls.client_cert_pem.empty() || endpoint.tls.client_key_pem.empty()) {
      return absl::InvalidArgumentError("TCP needs a client certificate and its key");
    }
    ssl.pem_cert_chain = endpoint.tls.client_cert_pem;
    ssl.pem_private_key = endpoint.tls.client_key_pem;
  }
  args.SetSslTargetNameOverride(endpoint.ServerName());
  return grpc::CreateCustomChannel(endpoint.address, grpc::SslCredentials(ssl), args);
}

std::string DurationText(absl::Duration d) {
  // Milliseconds are precise enough, except for what is faster than that.
  const absl::Duration unit = d < absl::Milliseconds(1) ? absl::Microseconds(1)
                              : d < absl::Seconds(1)    ? absl::Microseconds(100)
                                                        : absl::Milliseconds(1);
  return absl::FormatDuration(absl::Trunc(d, unit));
}

// Why a Unix socket cannot be reached, or "" when it looks fine.
std::string DiagnoseUnixSocket(const std::string& path) {
  struct stat info {};
  if (stat(path.c_str(), &info) != 0) {
    if (errno == ENOENT) {
      return internal::Cat("there is no socket at ", path,
                           ": is the plugin running, and is this <its --plugin-path>/<its name>?");
    }
    return internal::Cat("cannot access ", path, ": ", strerror(errno));
  }
  if (!S_ISSOCK(info.st_mode)) return internal::Cat(path, " exists but is not a Unix socket");
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof(address.sun_path)) {
    close(fd);
    return "";
  }
  memcpy(address.sun_path, path.c_str(), path.size() + 1);
  std::string out;
  if (connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) != 0) {
    if (errno == ECONNREFUSED) {
      out = internal::Cat("nobody listens on ", path,
                          " (a socket file left behind by a plugin that stopped?)");
    } else {
      out = internal::Cat("cannot connect to ", path, ": ", strerror(errno));
    }
  }
  close(fd);
  return out;
}

absl::Status RawCall(const std::shared_ptr<grpc::Channel>& channel, const Endpoint& endpoint,
                     const ClientOptions& options, std::string_view method,
                     const std::string& request, std::string* response) {
  const std::string name(method.substr(method.empty() ? 0 : 1));
  const absl::Time now = absl::Now();
  if (now >= options.deadline) {
    return absl::DeadlineExceededError(
        internal::Cat(name, ": not called: the overall deadline has passed"));
  }
  const absl::Time deadline = std::min(now + options.call_timeout, options.deadline);

  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(deadline));
  grpc::Slice slice(request);
  const grpc::ByteBuffer in(&slice, 1);
  grpc::ByteBuffer out;
  std::promise<grpc::Status> done;
  std::future<grpc::Status> result = done.get_future();
  stub.UnaryCall(&context, std::string(method), grpc::StubOptions(), &in, &out,
                 [&done](grpc::Status status) { done.set_value(std::move(status)); });
  const grpc::Status status = result.get();

  if (status.ok()) {
    if (response != nullptr) {
      std::vector<grpc::Slice> slices;
      response->clear();
      if (out.Valid() && !out.Dump(&slices).ok()) {
        return absl::InternalError(internal::Cat(name, ": the answer could not be read"));
      }
      for (const auto& s : slices) {
        response->append(reinterpret_cast<const char*>(s.begin()), s.size());
      }
    }
    return absl::OkStatus();
  }
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  std::string message = internal::Cat(name, ": ", status.error_message());
  if (code == absl::StatusCode::kDeadlineExceeded) {
    message = internal::Cat(name, ": no answer within ", DurationText(deadline - now));
    if (deadline == options.deadline) internal::Append(&message, " (the overall deadline)");
  } else if (code == absl::StatusCode::kUnavailable &&
             endpoint.transport == Endpoint::Transport::kUnix) {
    std::error_code ec;
    const std::string path = std::filesystem::absolute(endpoint.socket_path, ec).string();
    if (const std::string why = DiagnoseUnixSocket(path); !why.empty()) {
      internal::Append(&message, " (", why, ")");
    }
  }
  return absl::Status(code, message);
}

}  // namespace internal

absl::StatusOr<PluginClient> PluginClient::Open(const Endpoint& endpoint, ClientOptions options) {
  if (options.call_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the call timeout must be positive");
  }
  auto channel = internal::MakeChannel(endpoint, options, internal::ChannelSecurity::kMutualTls);
  if (!channel.ok()) return channel.status();
  auto state = std::make_shared<State>();
  state->endpoint = endpoint;
  state->options = std::move(options);
  state->channel = *std::move(channel);
  state->fixtures = std::make_shared<Fixtures>();
  return PluginClient(std::move(state));
}

absl::StatusOr<PluginClient> PluginClient::Connect(const Endpoint& endpoint,
                                                   ClientOptions options) {
  absl::StatusOr<PluginClient> client = Open(endpoint, std::move(options));
  if (!client.ok()) return client.status();
  if (absl::Status s = client->Handshake(); !s.ok()) {
    return absl::Status(s.code(), internal::Cat("handshake with the plugin at ",
                                                endpoint.Describe(), " failed: ", s.message()));
  }
  return client;
}

namespace {

template <class Response>
absl::Status HandshakeStep(const PluginClient& client, HandshakeResult& result,
                           std::string_view method, Response& response) {
  const absl::Time start = absl::Now();
  absl::Status status = client.Call(method, google::protobuf::Empty(), response);
  result.steps.push_back({std::string(method), status, absl::Now() - start});
  return status;
}

}  // namespace

absl::Status PluginClient::Handshake() {
  auto result = std::make_shared<HandshakeResult>();
  absl::Status first;
  auto record = [&first](const absl::Status& s) {
    if (first.ok() && !s.ok()) first = s;
  };
  // The request messages are all empty: an Empty serialises identically.
  absl::Status reached = HandshakeStep(*this, *result, kGetPluginMetadataMethod, result->metadata);
  for (int retry = 0;
       retry < internal::kStaleConnectRetries && internal::IsStaleConnectErrno(endpoint(), reached);
       ++retry) {
    // Nothing reached the plugin (stale_connect_errno.h): a new connection.
    auto channel =
        internal::MakeChannel(endpoint(), options(), internal::ChannelSecurity::kMutualTls);
    if (!channel.ok()) break;
    state_->channel = *std::move(channel);
    result->steps.clear();
    reached = HandshakeStep(*this, *result, kGetPluginMetadataMethod, result->metadata);
  }
  record(reached);
  if (first.ok()) {
    record(HandshakeStep(*this, *result, kGetPluginCapabilitiesMethod, result->capabilities));
  }
  if (first.ok()) {
    for (Service service : internal::HandshakeOrder()) {
      if (!result->Advertises(service)) continue;
      const std::string_view method = internal::CapabilitiesMethodOf(service);
      absl::Status s;
      switch (service) {
        case Service::kOperator:
          s = HandshakeStep(*this, *result, method, result->operator_capabilities.emplace());
          if (!s.ok()) result->operator_capabilities.reset();
          break;
        case Service::kLifecycle:
          s = HandshakeStep(*this, *result, method, result->lifecycle_capabilities.emplace());
          if (!s.ok()) result->lifecycle_capabilities.reset();
          break;
        case Service::kWal:
          s = HandshakeStep(*this, *result, method, result->wal_capabilities.emplace());
          if (!s.ok()) result->wal_capabilities.reset();
          break;
        case Service::kBackup:
          s = HandshakeStep(*this, *result, method, result->backup_capabilities.emplace());
          if (!s.ok()) result->backup_capabilities.reset();
          break;
        case Service::kReconcilerHooks:
          s = HandshakeStep(*this, *result, method, result->reconciler_capabilities.emplace());
          if (!s.ok()) result->reconciler_capabilities.reset();
          break;
        case Service::kRestoreJob:
          s = HandshakeStep(*this, *result, method, result->restore_job_capabilities.emplace());
          if (!s.ok()) result->restore_job_capabilities.reset();
          break;
        case Service::kPostgres:
          s = HandshakeStep(*this, *result, method, result->postgres_capabilities.emplace());
          if (!s.ok()) result->postgres_capabilities.reset();
          break;
        case Service::kMetrics:
          s = HandshakeStep(*this, *result, method, result->metrics_capabilities.emplace());
          if (!s.ok()) result->metrics_capabilities.reset();
          break;
      }
      if (!s.ok()) {
        record(absl::Status(s.code(),
                            internal::Cat(s.message(), " (the plugin advertises ", NameOf(service),
                                          "; the operator gives up on a plugin whose "
                                          "advertised service does not answer)")));
      }
    }
    identity::v1::ProbeResponse probe;
    record(HandshakeStep(*this, *result, kProbeMethod, probe));
  }
  result->complete = first.ok();

  auto fixtures = std::make_shared<Fixtures>(result->name(), state_->options.plugin_parameters);
  fixtures->WithVersion(result->version())
      .WithCapabilities(result->IdentityCapabilityNames(), result->OperatorCapabilityNames(),
                        result->WalCapabilityNames(), result->BackupCapabilityNames(),
                        result->RestoreJobCapabilityNames());
  state_->handshake = std::move(result);
  state_->fixtures = std::move(fixtures);
  return first;
}

const HandshakeResult& PluginClient::handshake() const { return *state_->handshake; }
const Fixtures& PluginClient::fixtures() const { return *state_->fixtures; }
const Endpoint& PluginClient::endpoint() const { return state_->endpoint; }
const ClientOptions& PluginClient::options() const { return state_->options; }

PluginClient PluginClient::WithTimeout(absl::Duration call_timeout) const {
  auto state = std::make_shared<State>(*state_);
  state->options.call_timeout = call_timeout;
  return PluginClient(std::move(state));
}

PluginClient PluginClient::Unchecked() const {
  auto state = std::make_shared<State>(*state_);
  state->options.require_advertised = false;
  return PluginClient(std::move(state));
}

absl::Status PluginClient::Call(std::string_view method, const google::protobuf::Message& request,
                                google::protobuf::Message& response) const {
  std::string bytes;
  if (!request.SerializeToString(&bytes)) {
    return absl::InvalidArgumentError(
        internal::Cat(method, ": the request could not be serialised"));
  }
  std::string answer;
  absl::Status status =
      internal::RawCall(state_->channel, state_->endpoint, state_->options, method, bytes, &answer);
  if (!status.ok()) return status;
  if (!response.ParseFromString(answer)) {
    return absl::FailedPreconditionError(internal::Cat(method.substr(1), ": the answer (",
                                                       answer.size(), " bytes) is not a valid ",
                                                       response.GetTypeName()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> PluginClient::CallBytes(std::string_view method,
                                                    const std::string& request) const {
  std::string answer;
  absl::Status status = internal::RawCall(state_->channel, state_->endpoint, state_->options,
                                          method, request, &answer);
  if (!status.ok()) return status;
  return answer;
}

absl::Status PluginClient::CheckAdvertised(Rpc rpc) const {
  if (!state_->options.require_advertised) return absl::OkStatus();
  const HandshakeResult& h = *state_->handshake;
  if (h.steps.empty()) return absl::OkStatus();  // no handshake yet: nothing known
  if (h.Advertises(rpc)) return absl::OkStatus();
  return absl::FailedPreconditionError(internal::Cat(
      NameOf(rpc), ": not called: the plugin does not advertise it",
      h.Advertises(ServiceOf(rpc)) ? "" : internal::Cat(" (nor ", NameOf(ServiceOf(rpc)), ")"),
      ", so the operator never calls it (use PluginClient::Unchecked() to call it anyway)"));
}

namespace {

absl::Status BytesOf(const Document& document, const char* what, std::string& out) {
  if (!document.bytes().ok()) {
    return absl::InvalidArgumentError(internal::Cat(
        "the ", what, " to send has no JSON text: ", document.bytes().status().message()));
  }
  out = *document.bytes();
  return absl::OkStatus();
}

#define CNPGI_SET_BYTES(document, what, setter)                                 \
  do {                                                                          \
    std::string bytes_;                                                         \
    if (absl::Status s_ = BytesOf(document, what, bytes_); !s_.ok()) return s_; \
    setter(std::move(bytes_));                                                  \
  } while (false)

absl::Status BrokenAnswer(Rpc rpc, const std::string& why) {
  return absl::FailedPreconditionError(internal::Cat(
      NameOf(rpc), ": the plugin answered OK, but the operator cannot use its answer: ", why));
}

absl::StatusOr<PatchedObject> MakePatched(Rpc rpc, const Document& sent, std::string patch) {
  if (!patch.empty() && !sent.is_json()) {
    return BrokenAnswer(rpc, "it answered a patch for an object that is not JSON");
  }
  const nlohmann::json& before = sent.value();
  absl::StatusOr<PatchedObject> patched = PatchedObject::Make(before, std::move(patch));
  if (!patched.ok()) return BrokenAnswer(rpc, std::string(patched.status().message()));
  if (patched->changed()) {
    // The operator decodes the patched object as a typed Kubernetes object.
    if (!patched->json().is_object()) {
      return BrokenAnswer(
          rpc, internal::Cat("the patch turns the object into ", JsonTypeName(patched->json())));
    }
    for (const char* key : {"apiVersion", "kind"}) {
      const nlohmann::json* was = FindJson(before, std::string("/") + key);
      const nlohmann::json* now = patched->Find(std::string("/") + key);
      const std::string was_text = was == nullptr ? "absent" : was->dump();
      const std::string now_text = now == nullptr ? "absent" : now->dump();
      if (was_text != now_text) {
        return BrokenAnswer(
            rpc, internal::Cat("the patch changes ", key, " from ", was_text, " to ", now_text,
                               "; the operator decodes the result as the kind "
                               "it sent and fails"));
      }
    }
  }
  return patched;
}

std::string OperationName(LifecycleOperation operation) {
  return operator_lifecycle::v1::OperatorOperationType::Type_Name(
      static_cast<operator_lifecycle::v1::OperatorOperationType::Type>(operation));
}

std::string GroupOf(std::string_view api_version) {
  const auto slash = api_version.find('/');
  return slash == std::string_view::npos ? std::string()
                                         : std::string(api_version.substr(0, slash));
}

}  // namespace

absl::StatusOr<identity::v1::GetPluginMetadataResponse> PluginClient::GetPluginMetadata() const {
  return Call<identity::v1::GetPluginMetadataResponse>(kGetPluginMetadataMethod,
                                                       identity::v1::GetPluginMetadataRequest());
}

absl::StatusOr<identity::v1::GetPluginCapabilitiesResponse> PluginClient::GetPluginCapabilities()
    const {
  return Call<identity::v1::GetPluginCapabilitiesResponse>(
      kGetPluginCapabilitiesMethod, identity::v1::GetPluginCapabilitiesRequest());
}

absl::Status PluginClient::Probe() const {
  return Call<identity::v1::ProbeResponse>(kProbeMethod, identity::v1::ProbeRequest()).status();
}

namespace {

std::vector<ValidationError> FromProto(
    const google::protobuf::RepeatedPtrField<operator_::v1::ValidationError>& errors) {
  std::vector<ValidationError> out;
  for (const auto& e : errors) {
    out.push_back(
        {{e.path_components().begin(), e.path_components().end()}, e.value(), e.message()});
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<ValidationError>> PluginClient::ValidateClusterCreate(
    const Document& cluster) const {
  if (absl::Status s = CheckAdvertised(Rpc::kValidateClusterCreate); !s.ok()) return s;
  operator_::v1::OperatorValidateClusterCreateRequest request;
  CNPGI_SET_BYTES(cluster, "Cluster", request.set_definition);
  auto result = Call<operator_::v1::OperatorValidateClusterCreateResult>(
      MethodOf(Rpc::kValidateClusterCreate), request);
  if (!result.ok()) return result.status();
  return FromProto(result->validation_errors());
}

absl::StatusOr<std::vector<ValidationError>> PluginClient::ValidateClusterChange(
    const Document& old_cluster, const Document& new_cluster) const {
  if (absl::Status s = CheckAdvertised(Rpc::kValidateClusterChange); !s.ok()) return s;
  operator_::v1::OperatorValidateClusterChangeRequest request;
  CNPGI_SET_BYTES(old_cluster, "old Cluster", request.set_old_cluster);
  CNPGI_SET_BYTES(new_cluster, "new Cluster", request.set_new_cluster);
  auto result = Call<operator_::v1::OperatorValidateClusterChangeResult>(
      MethodOf(Rpc::kValidateClusterChange), request);
  if (!result.ok()) return result.status();
  return FromProto(result->validation_errors());
}

absl::StatusOr<PatchedObject> PluginClient::MutateCluster(const Document& cluster) const {
  if (absl::Status s = CheckAdvertised(Rpc::kMutateCluster); !s.ok()) return s;
  operator_::v1::OperatorMutateClusterRequest request;
  CNPGI_SET_BYTES(cluster, "Cluster", request.set_definition);
  auto result =
      Call<operator_::v1::OperatorMutateClusterResult>(MethodOf(Rpc::kMutateCluster), request);
  if (!result.ok()) return result.status();
  return MakePatched(Rpc::kMutateCluster, cluster, result->json_patch());
}

absl::StatusOr<std::optional<nlohmann::json>> PluginClient::SetStatusInCluster(
    const Document& cluster) const {
  if (absl::Status s = CheckAdvertised(Rpc::kSetStatusInCluster); !s.ok()) return s;
  operator_::v1::SetStatusInClusterRequest request;
  CNPGI_SET_BYTES(cluster, "Cluster", request.set_cluster);
  auto result =
      Call<operator_::v1::SetStatusInClusterResponse>(MethodOf(Rpc::kSetStatusInCluster), request);
  if (!result.ok()) return result.status();
  if (result->json_status().empty()) return std::optional<nlohmann::json>();
  absl::StatusOr<nlohmann::json> status = ParseJson(result->json_status());
  if (!status.ok()) {
    return BrokenAnswer(Rpc::kSetStatusInCluster,
                        internal::Cat("json_status is not JSON: ", status.status().message()));
  }
  // The operator unmarshals it into a Go map: null is accepted (an empty
  // map; the text "null" is stored as the status), anything else but an
  // object is refused (SEMANTICS 3.1).
  if (!status->is_object() && !status->is_null()) {
    return BrokenAnswer(Rpc::kSetStatusInCluster,
                        internal::Cat("json_status is ", JsonTypeName(*status), " (",
                                      internal::Abbreviated(result->json_status()),
                                      "); only a JSON object (or nothing, or null) is accepted"));
  }
  return std::optional<nlohmann::json>(*std::move(status));
}

absl::Status PluginClient::Deregister(const Document& cluster) const {
  if (absl::Status s = CheckAdvertised(Rpc::kDeregister); !s.ok()) return s;
  operator_::v1::DeregisterRequest request;
  CNPGI_SET_BYTES(cluster, "Cluster", request.set_definition);
  return Call<operator_::v1::DeregisterResponse>(MethodOf(Rpc::kDeregister), request).status();
}

absl::StatusOr<PatchedObject> PluginClient::LifecycleHook(LifecycleOperation operation,
                                                          const Document& cluster,
                                                          const Document& object) const {
  if (absl::Status s = CheckAdvertised(Rpc::kLifecycleHook); !s.ok()) return s;
  if (state_->options.require_advertised && !state_->handshake->steps.empty() && object.is_json() &&
      object.value().is_object()) {
    const std::string api_version = object.value().value("apiVersion", "");
    const std::string kind = object.value().value("kind", "");
    const std::string group = GroupOf(api_version);
    if (!state_->handshake->Subscribes(group, kind, operation)) {
      return absl::FailedPreconditionError(internal::Cat(
          NameOf(Rpc::kLifecycleHook), ": not called: the plugin does not subscribe to ",
          OperationName(operation), " of ", group.empty() ? "core" : group, "/", kind,
          ", so the operator never sends it (use PluginClient::Unchecked() to send it anyway)"));
    }
  }
  operator_lifecycle::v1::OperatorLifecycleRequest request;
  request.mutable_operation_type()->set_type(
      static_cast<operator_lifecycle::v1::OperatorOperationType::Type>(operation));
  CNPGI_SET_BYTES(cluster, "Cluster", request.set_cluster_definition);
  CNPGI_SET_BYTES(object, "object", request.set_object_definition);
  auto result = Call<operator_lifecycle::v1::OperatorLifecycleResponse>(
      MethodOf(Rpc::kLifecycleHook), request);
  if (!result.ok()) return result.status();
  return MakePatched(Rpc::kLifecycleHook, object, result->json_patch());
}

absl::StatusOr<reconciler::v1::ReconcilerHooksResult> PluginClient::PreReconcile(
    const Document& cluster, const Document& resource) const {
  if (absl::Status s = CheckAdvertised(Rpc::kPreReconcile); !s.ok()) return s;
  reconciler::v1::ReconcilerHooksRequest request;
  CNPGI_SET_BYTES(cluster, "Cluster", request.set_cluster_definition);
  CNPGI_SET_BYTES(resource, "resource", request.set_resource_definition);
  return Call<reconciler::v1::ReconcilerHooksResult>(MethodOf(Rpc::kPreReconcile), request);
}

absl::StatusOr<reconciler::v1::ReconcilerHooksResult> PluginClient::PostReconcile(
    const Document& cluster, const Document& resource) const {
  if (absl::Status s = CheckAdvertised(Rpc::kPostReconcile); !s.ok()) return s;
  reconciler::v1::ReconcilerHooksRequest request;
  CNPGI_SET_BYTES(cluster, "Cluster", request.set_cluster_definition);
  CNPGI_SET_BYTES(resource, "resource", request.set_resource_definition);
  return Call<reconciler::v1::ReconcilerHooksResult>(MethodOf(Rpc::kPostReconcile), request);
}

absl::Status PluginClient::ArchiveWal(const Document& cluster, const std::string& source_file,
                                      std::optional<bool> check_empty_wal_archive) const {
  if (absl::Status s = CheckAdvertised(Rpc::kArchiveWal); !s.ok()) return s;
  wal::v1::WALArchiveRequest request;
  CNPGI_SET_BYTES(cluster, "Cluster", request.set_cluster_definition);
  request.set_source_file_name(source_file);
  if (check_empty_wal_archive) request.set_check_empty_wal_archive(*check_empty_wal_archive);
  return Call<wal::v1::WALArchiveResult>(MethodOf(Rpc::kArchiveWal), request).status();
}

absl::Status PluginClient::RestoreWal(const Document& cluster, const std::string& wal_name,
                                      const std::string& destination_file,
                                      wal::v1::WALRestoreRequest::Mode mode) const {
  if (absl::Status s = CheckAdvertised(Rpc::kRestoreWal); !s.ok()) return s;
  wal::v1::WALRestoreRequest request;
  CNPGI_SET_BYTES(cluster, "Cluster", request.set_cluster_definition);
  request.set_source_wal_name(wal_name);
  request.set_destination_file_name(destination_file);
  request.set_mode(mode);
  return Call<wal::v1::WALRestoreResult>(MethodOf(Rpc::kRestoreWal), request).status();
}

absl::StatusOr<wal::v1::WALStatusResult> PluginClient::WalStatus(const Document& cluster) const {
  if (absl::Status s = CheckAdvertised(Rpc::kWalStatus); !s.ok()) return s;
  wal::v1::WALStatusRequest request;
  CNPGI_SET_BYTES(cluster, "Cluster", request.set_cluster_definition);
  return Call<wal::v1::WALStatusResult>(MethodOf(Rpc::kWalStatus), request);
}

absl::Status PluginClient::SetFirstRequired(const Document& cluster,
                                            const std::string& first_required) const {
  if (absl::Status s = CheckAdvertised(Rpc::kSetFirstRequired); !s.ok()) return s;
  wal::v1::SetFirstRequiredRequest request;
  CNPGI_SET_BYTES(cluster, "Cluster", request.set_cluster_definition);
  request.set_first_required_wal(first_required);
  return Call<wal::v1::SetFirstRequiredResult>(MethodOf(Rpc::kSetFirstRequired), request).status();
}

absl::StatusOr<backup::v1::BackupResult> PluginClient::Backup(
    const Document& cluster, const Document& backup,
    const std::map<std::string, std::string>& parameters) const {
  if (absl::Status s = CheckAdvertised(Rpc::kBackup); !s.ok()) return s;
  backup::v1::BackupRequest request;
  CNPGI_SET_BYTES(cluster, "Cluster", request.set_cluster_definition);
  CNPGI_SET_BYTES(backup, "Backup", request.set_backup_definition);
  request.mutable_parameters()->insert(parameters.begin(), parameters.end());
  return Call<backup::v1::BackupResult>(MethodOf(Rpc::kBackup), request);
}

absl::StatusOr<wal::v1::RestoreResponse> PluginClient::RestoreJob(
    const Document& cluster, std::optional<bool> check_empty_wal_archive) const {
  if (absl::Status s = CheckAdvertised(Rpc::kRestoreJob); !s.ok()) return s;
  wal::v1::RestoreRequest request;
  CNPGI_SET_BYTES(cluster, "Cluster", request.set_cluster_definition);
  if (check_empty_wal_archive) request.set_check_empty_wal_archive(*check_empty_wal_archive);
  return Call<wal::v1::RestoreResponse>(MethodOf(Rpc::kRestoreJob), request);
}

absl::StatusOr<EnrichedConfiguration> PluginClient::EnrichConfiguration(
    ConfigurationOperation operation, const Document& cluster,
    const std::map<std::string, std::string>& configs) const {
  if (absl::Status s = CheckAdvertised(Rpc::kEnrichConfiguration); !s.ok()) return s;
  identity::v1::EnrichConfigurationRequest request;
  CNPGI_SET_BYTES(cluster, "Cluster", request.set_cluster_definition);
  request.mutable_configs()->insert(configs.begin(), configs.end());
  request.mutable_operation_type()->set_type(
      static_cast<identity::v1::OperationType::Type>(operation));
  auto result =
      Call<identity::v1::EnrichConfigurationResult>(MethodOf(Rpc::kEnrichConfiguration), request);
  if (!result.ok()) return result.status();
  EnrichedConfiguration out;
  out.answer.insert(result->configs().begin(), result->configs().end());
  out.configuration = out.answer.empty() ? configs : out.answer;
  return out;
}

absl::StatusOr<metrics::v1::DefineMetricsResult> PluginClient::DefineMetrics(
    const Document& cluster) const {
  if (absl::Status s = CheckAdvertised(Rpc::kDefineMetrics); !s.ok()) return s;
  metrics::v1::DefineMetricsRequest request;
  CNPGI_SET_BYTES(cluster, "Cluster", request.set_cluster_definition);
  return Call<metrics::v1::DefineMetricsResult>(MethodOf(Rpc::kDefineMetrics), request);
}

absl::StatusOr<metrics::v1::CollectMetricsResult> PluginClient::CollectMetrics(
    const Document& cluster) const {
  if (absl::Status s = CheckAdvertised(Rpc::kCollectMetrics); !s.ok()) return s;
  metrics::v1::CollectMetricsRequest request;
  CNPGI_SET_BYTES(cluster, "Cluster", request.set_cluster_definition);
  return Call<metrics::v1::CollectMetricsResult>(MethodOf(Rpc::kCollectMetrics), request);
}

absl::StatusOr<std::vector<MetricSample>> PluginClient::ScrapeMetrics(
    const Document& cluster) const {
  auto definitions = DefineMetrics(cluster);
  if (!definitions.ok()) return definitions.status();
  auto samples = CollectMetrics(cluster);
  if (!samples.ok()) return samples.status();
  auto matched = MatchMetrics(*definitions, *samples);
  if (!matched.ok()) {
    return absl::FailedPreconditionError(
        internal::Cat("cnpgi.metrics.v1.Metrics: the answers of Define and Collect do not agree, "
                      "the instance manager's exporter would fail the scrape: ",
                      matched.status().message()));
  }
  return matched;
}

#undef CNPGI_SET_BYTES

}  // namespace cnpgi::test
