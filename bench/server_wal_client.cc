// One archived WAL segment as the instance manager's `wal-archive` does it:
// a fresh process connects to the plugin's Unix socket, runs the handshake
// (GetPluginMetadata, GetPluginCapabilities, GetCapabilities of each
// advertised service in the operator's order, Probe) and calls WAL.Archive.
//
//   server_wal_client <socket path> <cluster.json>
//
// Exits 0 after a successful Archive and prints the microseconds spent from
// channel creation to the Archive answer (the process's own start-up is
// left out of that figure; server_bench measures the whole exec separately).
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "cnpgi/identity/v1/identity.grpc.pb.h"
#include "cnpgi/operator/v1/operator.grpc.pb.h"
#include "cnpgi/wal/v1/wal.grpc.pb.h"

namespace {

namespace identity = cnpgi::identity::v1;
namespace op = cnpgi::operator_::v1;
namespace wal = cnpgi::wal::v1;

bool Check(const grpc::Status& status, const char* what) {
  if (status.ok()) return true;
  std::fprintf(stderr, "server_wal_client: %s failed: %d %s\n", what,
               static_cast<int>(status.error_code()), status.error_message().c_str());
  return false;
}

template <class Stub, class Request, class Response>
bool Call(Stub& stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
          const Request& request, Response* response, const char* what) {
  grpc::ClientContext context;
  return Check((stub.*method)(&context, request, response), what);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <socket path> <cluster.json>\n", argv[0]);
    return 2;
  }
  std::ifstream in(argv[2], std::ios::binary);
  std::stringstream cluster;
  cluster << in.rdbuf();
  if (!in) {
    std::fprintf(stderr, "server_wal_client: cannot read %s\n", argv[2]);
    return 2;
  }

  const auto start = std::chrono::steady_clock::now();
  auto channel =
      grpc::CreateChannel(std::string("unix:") + argv[1], grpc::InsecureChannelCredentials());
  identity::Identity::Stub identity_stub(channel);
  op::Operator::Stub operator_stub(channel);
  wal::WAL::Stub wal_stub(channel);

  identity::GetPluginMetadataResponse metadata;
  if (!Call(identity_stub, &identity::Identity::Stub::GetPluginMetadata,
            identity::GetPluginMetadataRequest(), &metadata, "GetPluginMetadata")) {
    return 1;
  }
  identity::GetPluginCapabilitiesResponse capabilities;
  if (!Call(identity_stub, &identity::Identity::Stub::GetPluginCapabilities,
            identity::GetPluginCapabilitiesRequest(), &capabilities, "GetPluginCapabilities")) {
    return 1;
  }
  bool has_operator = false;
  bool has_wal = false;
  for (const auto& c : capabilities.capabilities()) {
    using Type = identity::PluginCapability::Service;
    has_operator |= c.service().type() == Type::TYPE_OPERATOR_SERVICE;
    has_wal |= c.service().type() == Type::TYPE_WAL_SERVICE;
  }
  if (!has_wal) {
    std::fprintf(stderr, "server_wal_client: the plugin does not advertise the WAL service\n");
    return 1;
  }
  // The caller asks each advertised service for its capabilities, Operator
  // before WAL.
  if (has_operator) {
    op::OperatorCapabilitiesResult result;
    if (!Call(operator_stub, &op::Operator::Stub::GetCapabilities,
              op::OperatorCapabilitiesRequest(), &result, "Operator.GetCapabilities")) {
      return 1;
    }
  }
  wal::WALCapabilitiesResult wal_capabilities;
  if (!Call(wal_stub, &wal::WAL::Stub::GetCapabilities, wal::WALCapabilitiesRequest(),
            &wal_capabilities, "WAL.GetCapabilities")) {
    return 1;
  }
  identity::ProbeResponse probe;
  if (!Call(identity_stub, &identity::Identity::Stub::Probe, identity::ProbeRequest(), &probe,
            "Probe")) {
    return 1;
  }
  wal::WALArchiveRequest archive;
  archive.set_cluster_definition(cluster.str());
  archive.set_source_file_name("/var/lib/postgresql/data/pgdata/pg_wal/000000010000000000000005");
  archive.set_check_empty_wal_archive(false);
  wal::WALArchiveResult archived;
  if (!Call(wal_stub, &wal::WAL::Stub::Archive, archive, &archived, "Archive")) return 1;
  const auto elapsed = std::chrono::steady_clock::now() - start;
  std::printf("%lld\n",
              static_cast<long long>(
                  std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count()));
  return 0;
}
