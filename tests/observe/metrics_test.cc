// --metrics-address through a real server: scraped over HTTP, figures
// matching the calls made; a taken or malformed address refused naming the
// flag.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "cnpgi/identity/v1/identity.grpc.pb.h"
#include "cnpgi/testing/fixtures.h"
#include "cnpgi/testing/plugin_client.h"
#include "conformance/good_plugin.h"
#include "server/server_fixture.h"
#include "server/tcp_server_fixture.h"
#include "support/tls_channel.h"

namespace cnpgi {
namespace {

using conformance_test::kGoodPluginName;
using conformance_test::MakeGoodPlugin;
using ::testing::HasSubstr;
using testing_support::UnixServer;

// GET `path` from "127.0.0.1:port": the whole HTTP response.
std::string HttpGet(const std::string& address, const std::string& path) {
  const int port = std::stoi(address.substr(address.rfind(':') + 1));
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) {
    ::close(fd);
    return "connect failed";
  }
  const std::string request = "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n";
  (void)!::send(fd, request.data(), request.size(), 0);
  std::string out;
  char buffer[4096];
  ssize_t n;
  while ((n = ::recv(fd, buffer, sizeof(buffer), 0)) > 0) out.append(buffer, n);
  ::close(fd);
  return out;
}

// The value of the sample whose line starts with `series` + " ".
std::string Sample(const std::string& text, const std::string& series) {
  const std::size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return "(absent)";
  const std::size_t start = at + series.size() + 2;
  return text.substr(start, text.find('\n', start) - start);
}

std::string Labels(const std::string& service, const std::string& method) {
  return "{grpc_type=\"unary\",grpc_service=\"" + service + "\",grpc_method=\"" + method + "\"";
}

TEST(Metrics, ScrapedFiguresMatchTheCallsMade) {
  UnixServer server;
  ServerOptions options;
  options.metrics_address = "127.0.0.1:0";
  ASSERT_TRUE(server.Start(MakeGoodPlugin(), options).ok());
  const std::string address = server.server().metrics_address();
  ASSERT_THAT(address, HasSubstr("127.0.0.1:"));

  auto client = test::PluginClient::Connect(
      test::Endpoint::Unix(server.socket_path().string()));  // handshake: 1 Probe
  ASSERT_TRUE(client.ok()) << client.status();
  const nlohmann::json cluster = test::Fixtures(kGoodPluginName).cluster();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client->MutateCluster(cluster).ok());
  nlohmann::json unconfigured = cluster;
  unconfigured["spec"]["plugins"] = nlohmann::json::array();
  for (int i = 0; i < 2; ++i) ASSERT_FALSE(client->MutateCluster(unconfigured).ok());
  for (int i = 0; i < 4; ++i) ASSERT_TRUE(client->Probe().ok());

  const std::string response = HttpGet(address, "/metrics");
  ASSERT_THAT(response, HasSubstr("HTTP/1.1 200 OK"));
  ASSERT_THAT(response, HasSubstr("Content-Type: text/plain; version=0.0.4"));
  const std::string mutate = Labels("cnpgi.operator.v1.Operator", "MutateCluster");
  const std::string probe = Labels("cnpgi.identity.v1.Identity", "Probe");
  EXPECT_EQ(Sample(response, "grpc_server_started_total" + mutate + "}"), "5");
  EXPECT_EQ(Sample(response, "grpc_server_handled_total" + mutate + ",grpc_code=\"OK\"}"), "3");
  EXPECT_EQ(
      Sample(response, "grpc_server_handled_total" + mutate + ",grpc_code=\"FailedPrecondition\"}"),
      "2");
  EXPECT_EQ(Sample(response, "grpc_server_handling_seconds_count" + mutate + "}"), "5");
  EXPECT_EQ(Sample(response, "grpc_server_handling_seconds_bucket" + mutate + ",le=\"+Inf\"}"),
            "5");
  EXPECT_EQ(Sample(response, "grpc_server_started_total" + probe + "}"), "5");
  EXPECT_EQ(Sample(response, "grpc_server_handled_total" + probe + ",grpc_code=\"OK\"}"), "5");
  EXPECT_EQ(Sample(response, "cnpgi_server_calls_in_flight"), "0");
  // The client's connection is open.
  EXPECT_EQ(Sample(response, "cnpgi_server_connections"), "1") << response;
  EXPECT_NE(Sample(response, "cnpgi_server_handshake_failures_total"), "(absent)");

  EXPECT_THAT(HttpGet(address, "/other"), HasSubstr("404"));
  server.server().Shutdown(absl::Seconds(1));
}

// Refused TLS clients (plaintext, no client certificate) are counted. The
// counter is the process's, so the test compares before and after.
TEST(Metrics, RefusedHandshakesAreCounted) {
  testing_support::TcpServer server;
  ServerOptions options;
  options.metrics_address = "127.0.0.1:0";
  ASSERT_TRUE(server.Start(options).ok());
  const std::string metrics = server.server().metrics_address();
  auto failures = [&metrics] {
    const std::string value =
        Sample(HttpGet(metrics, "/metrics"), "cnpgi_server_handshake_failures_total");
    return value == "(absent)" ? -1 : std::stoll(value);
  };
  auto metadata = [](const std::shared_ptr<grpc::Channel>& channel) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(3));
    identity::v1::GetPluginMetadataResponse response;
    return identity::v1::Identity::NewStub(channel)->GetPluginMetadata(&context, {}, &response);
  };
  const long long before = failures();
  ASSERT_GE(before, 0);
  EXPECT_FALSE(metadata(testing_support::MakeInsecureChannel(server.address())).ok());
  testing_support::MutualTlsChannelOptions without_certificate;
  without_certificate.trusted_server_cert_pem = server.server_cert().cert_pem;
  EXPECT_FALSE(
      metadata(testing_support::MakeMutualTlsChannel(server.address(), without_certificate)).ok());
  // Counted as gRPC reports the closed connection, after the client's error.
  long long after = failures();
  for (int i = 0; i < 100 && after < before + 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    after = failures();
  }
  EXPECT_GE(after, before + 2);
  // The operator's certificate still gets through, and is not counted.
  const long long settled = failures();
  EXPECT_TRUE(metadata(testing_support::MakeMutualTlsChannel(server.address(), server.server_cert(),
                                                             server.client_cert()))
                  .ok());
  EXPECT_EQ(failures(), settled);
}

TEST(Metrics, TakenAddressIsAStartupErrorNamingTheFlag) {
  UnixServer first;
  ServerOptions options;
  options.metrics_address = "127.0.0.1:0";
  ASSERT_TRUE(first.Start(MakeGoodPlugin(), options).ok());
  UnixServer second;
  options.metrics_address = first.server().metrics_address();
  const absl::Status s = second.Start(MakeGoodPlugin(), options);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("--metrics-address"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("in use"));
}

TEST(Metrics, MalformedAddressIsAStartupErrorNamingTheFlag) {
  UnixServer server;
  ServerOptions options;
  options.metrics_address = "localhost";
  const absl::Status s = server.Start(MakeGoodPlugin(), options);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(s.message()), HasSubstr("--metrics-address"));
}

TEST(Metrics, OffByDefault) {
  UnixServer server;
  ASSERT_TRUE(server.Start(MakeGoodPlugin()).ok());
  EXPECT_EQ(server.server().metrics_address(), "");
}

}  // namespace
}  // namespace cnpgi
