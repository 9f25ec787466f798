// What Debian's gRPC 1.51 does without the SDK's TLS 1.3 enforcement, and
// what the SDK does when it comes too late. Each test runs in a process of
// its own (ctest), which matters: gRPC fixes its cipher list once per process.
#include <gmock/gmock.h>
#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <gtest/gtest.h>

#include <stdlib.h>

#include <memory>
#include <string>

#include "support/temp_dir.h"
#include "support/test_certificates.h"
#include "support/tls_probe.h"
#include "test_server.h"
#include "tls/mutual_tls.h"
#include "tls/tls13_only.h"

namespace cnpgi::tls_test {
namespace {

using ::cnpgi::testing_support::Certificate;
using ::cnpgi::testing_support::MakeClientCertificate;
using ::cnpgi::testing_support::MakeServerCertificate;
using ::cnpgi::testing_support::ProbeTls;
using ::cnpgi::testing_support::TempDir;
using ::cnpgi::testing_support::TlsProbeOptions;
using ::cnpgi::testing_support::TlsProbeResult;
using ::cnpgi::testing_support::TlsVersion;
using ::testing::HasSubstr;

// Plain gRPC mutual-TLS server credentials, built the way gRPC's own
// examples do, with nothing from the SDK.
std::shared_ptr<grpc::ServerCredentials> PlainGrpcCredentials(const Certificate& server,
                                                              const Certificate& client) {
  auto provider = std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
      client.cert_pem,
      std::vector<grpc::experimental::IdentityKeyCertPair>{{server.key_pem, server.cert_pem}});
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  return grpc::experimental::TlsServerCredentials(options);
}

TlsProbeOptions Tls12Only(const Certificate& server, const Certificate& client) {
  TlsProbeOptions options;
  options.min_version = TlsVersion::k1_2;
  options.max_version = TlsVersion::k1_2;
  options.server_name = testing_support::kTestServerName;
  options.trusted_server_cert_pem = server.cert_pem;
  options.client_cert_pem = client.cert_pem;
  options.client_key_pem = client.key_pem;
  return options;
}

// The reason the SDK has to act: gRPC 1.51's TLS credentials accept TLS 1.2.
// Also shows that the TLS 1.2 probe the other tests rely on does detect a
// server that accepts TLS 1.2.
TEST(Tls13BaselineTest, PlainGrpcServerAcceptsTls12) {
  const Certificate server = MakeServerCertificate();
  const Certificate client = MakeClientCertificate();
  TestServer test_server(PlainGrpcCredentials(server, client));
  ASSERT_NE(test_server.port(), 0);
  absl::StatusOr<TlsProbeResult> result =
      ProbeTls("127.0.0.1", test_server.port(), Tls12Only(server, client));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->version, "TLSv1.2");
  EXPECT_TRUE(result->http2_settings_received);
}

// Once gRPC has fixed its cipher list, the SDK refuses to hand out server
// credentials that would accept TLS 1.2, and says why.
TEST(Tls13BaselineTest, RefusesToServeWhenTls12CanNoLongerBeDisabled) {
  const Certificate server = MakeServerCertificate();
  const Certificate client = MakeClientCertificate();
  TestServer earlier_server(PlainGrpcCredentials(server, client));
  ASSERT_NE(earlier_server.port(), 0);
  // The first TLS handshake is what makes gRPC read its cipher list.
  ASSERT_TRUE(ProbeTls("127.0.0.1", earlier_server.port(), Tls12Only(server, client)).ok());

  absl::Status enforced = internal::EnforceTls13Only();
  EXPECT_EQ(enforced.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(enforced.message()), HasSubstr("TLS 1.2 clients would be accepted"));

  TempDir dir;
  auto server_files = testing_support::WritePemFiles(dir.path(), "server", server);
  auto client_files = testing_support::WritePemFiles(dir.path(), "client", client);
  auto credentials = internal::MakeMutualTlsServerCredentials(
      internal::MutualTlsFiles{.server_cert = server_files.cert.string(),
                               .server_key = server_files.key.string(),
                               .client_cert = client_files.cert.string()},
      absl::Seconds(1));
  EXPECT_EQ(credentials.status().code(), absl::StatusCode::kFailedPrecondition);
}

// Set early enough, the same enforcement works for a plain gRPC server too:
// the mechanism is gRPC's, not the SDK's credentials.
TEST(Tls13BaselineTest, EnforcementBeforeFirstUseAppliesToEveryGrpcServer) {
  ASSERT_TRUE(internal::EnforceTls13Only().ok());
  const Certificate server = MakeServerCertificate();
  const Certificate client = MakeClientCertificate();
  TestServer test_server(PlainGrpcCredentials(server, client));
  ASSERT_NE(test_server.port(), 0);
  EXPECT_FALSE(ProbeTls("127.0.0.1", test_server.port(), Tls12Only(server, client)).ok());
  TlsProbeOptions tls13 = Tls12Only(server, client);
  tls13.max_version = TlsVersion::k1_3;
  absl::StatusOr<TlsProbeResult> result = ProbeTls("127.0.0.1", test_server.port(), tls13);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->version, "TLSv1.3");
}

// Where gRPC cannot be asked which cipher list it uses (a build without
// grpc_get_ssl_cipher_suites), the SDK cannot know whether TLS 1.2 is off:
// it refuses, saying what to do, instead of reporting success.
TEST(Tls13OnlyTest, FailsClosedWhenGrpcCannotConfirmTheCipherList) {
  unsetenv(std::string(internal::kGrpcCipherSuitesEnv).c_str());
  const absl::Status status = internal::EnforceTls13OnlyWith(nullptr);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  EXPECT_THAT(std::string(status.message()), HasSubstr("grpc_get_ssl_cipher_suites"));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr(std::string(internal::kGrpcCipherSuitesEnv) + "=" +
                        std::string(internal::kNoTls12CipherSuites)));
  // Asking again does not turn the variable the SDK set itself into proof.
  EXPECT_EQ(internal::EnforceTls13OnlyWith(nullptr).code(), absl::StatusCode::kFailedPrecondition);
}

// The way out it names: the list set in the environment before the process
// started is the only one gRPC can have read.
TEST(Tls13OnlyTest, AcceptsTheListFromTheEnvironmentWhenGrpcCannotConfirmIt) {
  setenv(std::string(internal::kGrpcCipherSuitesEnv).c_str(),
         std::string(internal::kNoTls12CipherSuites).c_str(), 1);
  const absl::Status status = internal::EnforceTls13OnlyWith(nullptr);
  EXPECT_TRUE(status.ok()) << status;
}

}  // namespace
}  // namespace cnpgi::tls_test
