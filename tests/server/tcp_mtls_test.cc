// PluginServer over TCP with mutual TLS, as the operator reaches a plugin
// deployed behind a Service: certificates from Secret volumes, the server
// certificate pinned, the client certificate required.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <thread>

#include "cnpgi/identity/v1/identity.grpc.pb.h"
#include "cnpgi/plugin_server.h"
#include "server_fixture.h"
#include "support/secret_volume.h"
#include "support/temp_dir.h"
#include "support/test_certificates.h"
#include "support/tls_channel.h"
#include "support/tls_probe.h"
#include "tcp_server_fixture.h"
#include "test_plugins.h"

namespace cnpgi {
namespace {

using ::testing::HasSubstr;
using namespace testing_support;

grpc::Status Metadata(const std::shared_ptr<grpc::Channel>& channel) {
  identity::v1::GetPluginMetadataResponse response;
  return identity::v1::Identity::NewStub(channel)->GetPluginMetadata(
      Deadline(std::chrono::seconds(3)).get(), {}, &response);
}

TEST(TcpMutualTls, TheOperatorsClientCertificateIsAccepted) {
  TcpServer server;
  ASSERT_TRUE(server.Start().ok());
  const grpc::Status status =
      Metadata(MakeMutualTlsChannel(server.address(), server.server_cert(), server.client_cert()));
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST(TcpMutualTls, NoClientCertificateIsRefused) {
  TcpServer server;
  ASSERT_TRUE(server.Start().ok());
  MutualTlsChannelOptions options;
  options.trusted_server_cert_pem = server.server_cert().cert_pem;
  EXPECT_FALSE(Metadata(MakeMutualTlsChannel(server.address(), options)).ok());
}

TEST(TcpMutualTls, ClientCertificateFromAnotherCaIsRefused) {
  TcpServer server;
  ASSERT_TRUE(server.Start().ok());
  const Certificate ca = MakeCertificateAuthority("someone-else");
  const Certificate stranger = MakeIssuedCertificate(ClientOptions("cnpgi-test-operator"), ca);
  EXPECT_FALSE(
      Metadata(MakeMutualTlsChannel(server.address(), server.server_cert(), stranger)).ok());
  // A different self-signed client certificate with the same name, too.
  EXPECT_FALSE(Metadata(MakeMutualTlsChannel(server.address(), server.server_cert(),
                                             MakeClientCertificate()))
                   .ok());
}

TEST(TcpMutualTls, PlaintextIsRefused) {
  TcpServer server;
  ASSERT_TRUE(server.Start().ok());
  EXPECT_FALSE(Metadata(MakeInsecureChannel(server.address())).ok());
}

TEST(TcpMutualTls, OnlyTls13IsNegotiated) {
  TcpServer server;
  ASSERT_TRUE(server.Start().ok());
  TlsProbeOptions options;
  options.server_name = std::string(kTestServerName);
  options.trusted_server_cert_pem = server.server_cert().cert_pem;
  options.client_cert_pem = server.client_cert().cert_pem;
  options.client_key_pem = server.client_cert().key_pem;

  options.min_version = options.max_version = TlsVersion::k1_3;
  const auto tls13 = ProbeTls("127.0.0.1", server.port(), options);
  ASSERT_TRUE(tls13.ok()) << tls13.status();
  EXPECT_EQ(tls13->version, "TLSv1.3");
  EXPECT_EQ(tls13->alpn, "h2");

  options.min_version = options.max_version = TlsVersion::k1_2;
  EXPECT_FALSE(ProbeTls("127.0.0.1", server.port(), options).ok());
}

// Kubernetes rotates a Secret by swapping the volume's ..data symlink; the
// plugin must pick up the new certificates without a restart.
TEST(TcpMutualTls, RotatedCertificatesArePickedUpWithoutRestart) {
  TcpServer server;
  ASSERT_TRUE(server.Start().ok());
  const Certificate new_client = MakeClientCertificate("rotated-operator");
  const Certificate new_server = MakeServerCertificate();
  server.client_secret().Update({{"tls.crt", new_client.cert_pem}});
  server.server_secret().Update(
      {{"tls.crt", new_server.cert_pem}, {"tls.key", new_server.key_pem}});

  grpc::Status status;
  for (int i = 0; i < 100; ++i) {  // up to ~10 s: the reload interval is 100 ms
    status = Metadata(MakeMutualTlsChannel(server.address(), new_server, new_client));
    if (status.ok()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(status.ok()) << "the rotated certificates were not picked up: "
                           << status.error_message();
  EXPECT_FALSE(
      Metadata(MakeMutualTlsChannel(server.address(), new_server, server.client_cert())).ok())
      << "the old client certificate must no longer be accepted";
}

// Anyone who can reach the port can open connections, each costing memory
// while it waits for its handshake: one that never completes it is closed
// (after 10 s; gRPC's default would keep it 120 s, which the bound below
// does not wait for).
TEST(TcpMutualTls, AConnectionThatNeverCompletesItsHandshakeIsClosed) {
  TcpServer server;
  ASSERT_TRUE(server.Start().ok());
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(server.port()));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)), 0);
  // Nothing is sent; the server must hang up within the bound.
  pollfd watch{.fd = fd, .events = POLLIN, .revents = 0};
  const int ready = poll(&watch, 1, /*timeout_ms=*/60000);
  char byte = 0;
  const ssize_t got = ready == 1 ? recv(fd, &byte, 1, 0) : -2;
  close(fd);
  EXPECT_EQ(ready, 1) << "the connection was still open after 60 s";
  EXPECT_LE(got, 0) << "the server sent data instead of closing";
}

TEST(TcpMutualTls, BadCertificateFilesAreAStartupError) {
  TempDir dir;
  WriteFile(dir / "garbage.crt", "not a certificate");
  const Certificate client = MakeClientCertificate();
  const PemFiles client_files = WritePemFiles(dir.path(), "client", client);
  PluginServer server(testing_plugins::TestMetadata());
  server.Add(std::make_shared<testing_plugins::StatusOnlyOperator>());
  cnpgi::ServerOptions options;
  options.server_address = "127.0.0.1:0";
  options.server_cert = (dir / "garbage.crt").string();
  options.server_key = client_files.key.string();
  options.client_cert = client_files.cert.string();
  const absl::Status status = server.Start(options);
  EXPECT_FALSE(status.ok());
  EXPECT_THAT(std::string(status.message()), HasSubstr("garbage.crt"));
}

}  // namespace
}  // namespace cnpgi
