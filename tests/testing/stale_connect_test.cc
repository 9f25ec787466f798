// gRPC 1.51 can fail a TCP connection inside connect(2) with a stale errno
// (src/testing/stale_connect_errno.h). This binary replaces connect(2) for
// the whole process (the executable's symbol comes first, gRPC's calls reach
// it) to make chosen TCP connects fail at once with ENOENT, exactly what the
// defect looks like from gRPC's side, and checks that the client and the
// checker try again on a new connection, and only then.
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <initializer_list>

#include "cnpgi/testing/conformance.h"
#include "cnpgi/testing/plugin_client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/tcp_server_fixture.h"
#include "testing/stale_connect_errno.h"

namespace {

std::atomic<int> g_tcp_connects{0};
std::atomic<uint64_t> g_fail_mask{0};  // bit n: fail the n-th TCP connect (1-based)

}  // namespace

extern "C" int connect(int fd, const struct sockaddr* address, socklen_t length) {
  using Connect = int (*)(int, const struct sockaddr*, socklen_t);
  static const auto real = reinterpret_cast<Connect>(dlsym(RTLD_NEXT, "connect"));
  // TCP only: gRPC also connects UDP sockets to sort resolved addresses.
  int type = 0;
  socklen_t type_length = sizeof(type);
  if (address != nullptr && (address->sa_family == AF_INET || address->sa_family == AF_INET6) &&
      getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &type_length) == 0 && type == SOCK_STREAM) {
    const int n = ++g_tcp_connects;
    if (n < 64 && (g_fail_mask.load() & (uint64_t{1} << n)) != 0) {
      errno = ENOENT;
      return -1;
    }
  }
  return real(fd, address, length);
}

namespace {

namespace ct = cnpgi::test;
using ::testing::HasSubstr;

// From now on, the TCP connects numbered in `which` (1 = the next) fail.
void FailTcpConnects(std::initializer_list<int> which) {
  uint64_t mask = 0;
  for (int n : which) mask |= uint64_t{1} << n;
  g_tcp_connects = 0;
  g_fail_mask = mask;
}

class StaleConnectTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start().ok()); }
  void TearDown() override { FailTcpConnects({}); }

  ct::Endpoint Plugin() const {
    ct::TlsCredentials tls;
    tls.client_cert_pem = server_.client_cert().cert_pem;
    tls.client_key_pem = server_.client_cert().key_pem;
    tls.server_cert_pem = server_.server_cert().cert_pem;
    tls.server_name = std::string(cnpgi::testing_support::kTestServerName);
    return ct::Endpoint::Tcp(server_.address(), tls);
  }

  cnpgi::testing_support::TcpServer server_;
};

TEST_F(StaleConnectTest, AConnectFailedThatWayIsTriedAgainOnANewConnection) {
  FailTcpConnects({1});
  absl::StatusOr<ct::PluginClient> client = ct::PluginClient::Connect(Plugin());
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(g_tcp_connects.load(), 2);
  EXPECT_TRUE(client->Probe().ok());  // the new connection is the one kept

  FailTcpConnects({1, 2});
  client = ct::PluginClient::Connect(Plugin());
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(g_tcp_connects.load(), 3);
  // The handshake shows the attempt that reached the plugin, once.
  EXPECT_EQ(client->handshake().steps.front().method,
            "/cnpgi.identity.v1.Identity/GetPluginMetadata");
  EXPECT_TRUE(client->handshake().steps.front().status.ok());
}

TEST_F(StaleConnectTest, AfterTwoRetriesTheFailureIsReported) {
  FailTcpConnects({1, 2, 3});
  absl::StatusOr<ct::PluginClient> client = ct::PluginClient::Connect(Plugin());
  ASSERT_FALSE(client.ok());
  EXPECT_EQ(client.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(client.status().message(), HasSubstr("No such file or directory"));
  EXPECT_EQ(g_tcp_connects.load(), 3);
}

TEST_F(StaleConnectTest, ARefusedConnectionIsNotTriedAgain) {
  // A port nobody listens on: bound, then closed.
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  close(fd);
  ct::Endpoint closed = Plugin();
  closed.address = "127.0.0.1:" + std::to_string(ntohs(address.sin_port));

  FailTcpConnects({});
  absl::StatusOr<ct::PluginClient> client = ct::PluginClient::Connect(closed);
  ASSERT_FALSE(client.ok());
  EXPECT_THAT(client.status().message(), HasSubstr("Connection refused"));
  EXPECT_FALSE(ct::internal::IsStaleConnectErrno(closed, client.status()));
  EXPECT_EQ(g_tcp_connects.load(), 1);
}

TEST_F(StaleConnectTest, TheCheckerDoesNotBlameThePlugin) {
  ct::ConformanceOptions options;
  options.endpoint = Plugin();
  options.only = {"probe", "transport.plaintext"};
  // 1: the checker's first connection; 3: the plaintext client's. Each is
  // tried again (2, 4), and the plaintext client is then really refused.
  FailTcpConnects({1, 3});
  absl::StatusOr<ct::ConformanceReport> report = ct::RunConformance(options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->ok());
  ASSERT_EQ(report->results.size(), 2u);
  EXPECT_EQ(report->results[1].name, "transport.plaintext");
  EXPECT_THAT(report->results[1].message, HasSubstr("refused a plaintext HTTP/2 client"));
  EXPECT_EQ(g_tcp_connects.load(), 4);
}

TEST(IsStaleConnectErrno, OnlyTheBareSystemErrorOfATcpConnect) {
  const ct::Endpoint tcp = ct::Endpoint::Tcp("127.0.0.1:1", {});
  const ct::Endpoint unix_socket = ct::Endpoint::Unix("/run/plugin.sock");
  // As seen in CI (gRPC 1.51), behind the client's method prefix.
  const absl::Status seen = absl::UnavailableError(
      "cnpgi.identity.v1.Identity/GetPluginMetadata: failed to connect to all addresses; last "
      "error: UNKNOWN: ipv4:127.0.0.1:37221: No such file or directory");
  EXPECT_TRUE(ct::internal::IsStaleConnectErrno(tcp, seen));
  EXPECT_TRUE(ct::internal::IsStaleConnectErrno(
      tcp, absl::UnavailableError("failed to connect to all addresses; last error: UNKNOWN: "
                                  "ipv6:[::1]:9090: Network is unreachable")));
  // Over a Unix socket, ENOENT is real.
  EXPECT_FALSE(ct::internal::IsStaleConnectErrno(unix_socket, seen));
  // Another code, or more than the system error.
  EXPECT_FALSE(ct::internal::IsStaleConnectErrno(
      tcp, absl::DeadlineExceededError(std::string(seen.message()))));
  EXPECT_FALSE(ct::internal::IsStaleConnectErrno(
      tcp, absl::UnavailableError("failed to connect to all addresses; last error: UNKNOWN: "
                                  "ipv4:127.0.0.1:1: Failed to connect to remote host: "
                                  "Connection refused")));
  EXPECT_FALSE(ct::internal::IsStaleConnectErrno(
      tcp, absl::UnavailableError("failed to connect to all addresses; last error: UNKNOWN: "
                                  "ipv4:127.0.0.1:1: Ssl handshake failed: SSL_ERROR_SSL")));
  EXPECT_FALSE(ct::internal::IsStaleConnectErrno(tcp, absl::UnavailableError("Socket closed")));
}

}  // namespace
