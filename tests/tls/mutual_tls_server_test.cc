// A real gRPC server over real TCP with MakeMutualTlsServerCredentials(),
// driven by real gRPC clients and by a raw OpenSSL client for what gRPC
// cannot show (protocol versions, ALPN, when the server drops a connection).
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "server/grpc_log.h"
#include "spdlog/sinks/base_sink.h"
#include "spdlog/spdlog.h"
#include "support/secret_volume.h"
#include "support/temp_dir.h"
#include "support/test_certificates.h"
#include "support/tls_channel.h"
#include "support/tls_probe.h"
#include "test_server.h"
#include "tls/mutual_tls.h"
#include "tls/tls13_only.h"

namespace cnpgi::tls_test {
namespace {

using ::cnpgi::internal::MakeMutualTlsServerCredentials;
using ::cnpgi::internal::MutualTlsFiles;
using ::cnpgi::testing_support::Certificate;
using ::cnpgi::testing_support::CertificateOptions;
using ::cnpgi::testing_support::KeyAlgorithm;
using ::cnpgi::testing_support::kTestServerName;
using ::cnpgi::testing_support::MakeCertificateAuthority;
using ::cnpgi::testing_support::MakeClientCertificate;
using ::cnpgi::testing_support::MakeInsecureChannel;
using ::cnpgi::testing_support::MakeIssuedCertificate;
using ::cnpgi::testing_support::MakeMutualTlsChannel;
using ::cnpgi::testing_support::MakeSelfSignedCertificate;
using ::cnpgi::testing_support::MakeServerCertificate;
using ::cnpgi::testing_support::MutualTlsChannelOptions;
using ::cnpgi::testing_support::ProbeTls;
using ::cnpgi::testing_support::SecretVolume;
using ::cnpgi::testing_support::TempDir;
using ::cnpgi::testing_support::TlsProbeOptions;
using ::cnpgi::testing_support::TlsProbeResult;
using ::cnpgi::testing_support::TlsVersion;
using ::testing::HasSubstr;

constexpr absl::Duration kReloadInterval = absl::Seconds(1);

// Keeps what the SDK logs (gRPC's own lines included), in the text format,
// so that a test can check why the server refused a client: a gRPC client
// only ever sees UNAVAILABLE.
class MemorySink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::string Text() {
    std::lock_guard<std::mutex> lock(mutex_);
    return text_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t line;
    formatter_->format(msg, line);
    text_.append(line.data(), line.size());
  }
  void flush_() override {}

 private:
  std::string text_;
};

class LogCapture {
 public:
  LogCapture()
      : sink_(std::make_shared<MemorySink>()),
        logger_(MakeLogger("tls-test", LogFormat::kText, spdlog::level::trace, sink_)),
        grpc_lines_(logger_, nullptr) {}
  const Logger& logger() const { return logger_; }
  std::string Text() { return sink_->Text(); }

 private:
  std::shared_ptr<MemorySink> sink_;
  Logger logger_;
  internal::GrpcLogRoute grpc_lines_;
};

class MutualTlsServerTest : public ::testing::Test {
 protected:
  // Publishes the server's identity and the trusted client certificate(s)
  // as two Kubernetes-style Secret volumes and starts a server on them.
  void Start(const Certificate& server, const std::string& trusted_client_pem) {
    server_secret_ = std::make_unique<SecretVolume>(
        dir_ / "server-tls",
        SecretVolume::Files{{"tls.crt", server.cert_pem}, {"tls.key", server.key_pem}});
    client_secret_ = std::make_unique<SecretVolume>(
        dir_ / "client-tls", SecretVolume::Files{{"tls.crt", trusted_client_pem}});
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> credentials =
        MakeMutualTlsServerCredentials(Files(), kReloadInterval, log_.logger());
    ASSERT_TRUE(credentials.ok()) << credentials.status();
    server_ = std::make_unique<TestServer>(*credentials);
    ASSERT_NE(server_->port(), 0);
  }

  MutualTlsFiles Files() const {
    return MutualTlsFiles{.server_cert = server_secret_->path("tls.crt").string(),
                          .server_key = server_secret_->path("tls.key").string(),
                          .client_cert = client_secret_->path("tls.crt").string()};
  }

  grpc::Status Probe(const Certificate& trusted_server, const Certificate& client) {
    return CallProbe(MakeMutualTlsChannel(server_->address(), trusted_server, client));
  }

  // A raw OpenSSL client pinning server_cert_ and presenting `client`
  // (none when null), limited to TLS versions [min, max].
  absl::StatusOr<TlsProbeResult> RawHandshake(TlsVersion min, TlsVersion max,
                                              const Certificate* client) {
    TlsProbeOptions options;
    options.min_version = min;
    options.max_version = max;
    options.server_name = kTestServerName;
    options.trusted_server_cert_pem = server_cert_.cert_pem;
    if (client != nullptr) {
      options.client_cert_pem = client->cert_pem;
      options.client_key_pem = client->key_pem;
    }
    return ProbeTls("127.0.0.1", server_->port(), options);
  }

  LogCapture log_;  // first: outlives the server, whose threads log into it
  TempDir dir_;
  Certificate server_cert_ = MakeServerCertificate();
  Certificate client_cert_ = MakeClientCertificate();
  std::unique_ptr<SecretVolume> server_secret_;
  std::unique_ptr<SecretVolume> client_secret_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(MutualTlsServerTest, AcceptsTheOperatorsClientCertificate) {
  Start(server_cert_, client_cert_.cert_pem);
  grpc::Status status = Probe(server_cert_, client_cert_);
  EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
}

TEST_F(MutualTlsServerTest, AcceptsRsaCertificatesAsCertManagerIssuesThem) {
  CertificateOptions server_options = testing_support::ServerOptions();
  server_options.key_algorithm = KeyAlgorithm::kRsa2048;
  CertificateOptions client_options = testing_support::ClientOptions();
  client_options.key_algorithm = KeyAlgorithm::kRsa2048;
  const Certificate server = MakeSelfSignedCertificate(server_options);
  const Certificate client = MakeSelfSignedCertificate(client_options);
  Start(server, client.cert_pem);
  grpc::Status status = Probe(server, client);
  EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
}

TEST_F(MutualTlsServerTest, RefusesAClientWithoutCertificate) {
  Start(server_cert_, client_cert_.cert_pem);
  MutualTlsChannelOptions no_certificate;
  no_certificate.trusted_server_cert_pem = server_cert_.cert_pem;
  grpc::Status status = CallProbe(MakeMutualTlsChannel(server_->address(), no_certificate));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
}

TEST_F(MutualTlsServerTest, RefusesASelfSignedCertificateThatIsNotPinned) {
  Start(server_cert_, client_cert_.cert_pem);
  const Certificate stranger = MakeClientCertificate("cnpgi-test-stranger");
  grpc::Status status = Probe(server_cert_, stranger);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_THAT(log_.Text(), HasSubstr(R"(\"CN=cnpgi-test-stranger,O=cnpgi-cpp tests\" rejected: )"
                                     "self-signed certificate"));
  EXPECT_THAT(log_.Text(),
              HasSubstr(R"(peer_certificate="CN=cnpgi-test-stranger,O=cnpgi-cpp tests")"));
}

TEST_F(MutualTlsServerTest, RefusesACertificateFromAnotherCa) {
  const Certificate trusted_ca = MakeCertificateAuthority("cnpgi-test-trusted-ca");
  const Certificate other_ca = MakeCertificateAuthority("cnpgi-test-other-ca");
  const Certificate client = MakeIssuedCertificate(testing_support::ClientOptions(), other_ca);
  Start(server_cert_, trusted_ca.cert_pem);
  grpc::Status status = Probe(server_cert_, client);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_THAT(log_.Text(), HasSubstr("rejected: unable to get local issuer certificate"));
}

TEST_F(MutualTlsServerTest, AcceptsALeafIssuedByAPinnedCa) {
  const Certificate ca = MakeCertificateAuthority();
  const Certificate client = MakeIssuedCertificate(testing_support::ClientOptions(), ca);
  Start(server_cert_, ca.cert_pem);
  grpc::Status status = Probe(server_cert_, client);
  EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
}

// SEMANTICS 1.3: Go accepts a pinned client certificate that is not
// self-signed, without its issuer. Plain OpenSSL verification would not.
TEST_F(MutualTlsServerTest, AcceptsAPinnedCaIssuedLeafWithoutItsCa) {
  const Certificate ca = MakeCertificateAuthority();
  const Certificate client = MakeIssuedCertificate(testing_support::ClientOptions(), ca);
  Start(server_cert_, client.cert_pem);
  grpc::Status status = Probe(server_cert_, client);
  EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();

  // Pinning the leaf trusts that leaf only, not its siblings.
  const Certificate sibling =
      MakeIssuedCertificate(testing_support::ClientOptions("cnpgi-test-sibling"), ca);
  grpc::Status sibling_status = Probe(server_cert_, sibling);
  EXPECT_EQ(sibling_status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(log_.Text(), HasSubstr(R"(\"CN=cnpgi-test-sibling,O=cnpgi-cpp tests\" rejected: )"
                                     "unable to get local issuer certificate"));
}

TEST_F(MutualTlsServerTest, RefusesAnExpiredClientCertificate) {
  const Certificate ca = MakeCertificateAuthority();
  const Certificate expired =
      MakeIssuedCertificate(testing_support::Expired(testing_support::ClientOptions()), ca);
  Start(server_cert_, ca.cert_pem);
  grpc::Status status = Probe(server_cert_, expired);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_THAT(log_.Text(), HasSubstr("rejected: certificate has expired"));
}

TEST_F(MutualTlsServerTest, RefusesAClientCertificateNotMeantForClientAuthentication) {
  const Certificate ca = MakeCertificateAuthority();
  CertificateOptions server_only = testing_support::ClientOptions();
  server_only.client_auth = false;
  server_only.server_auth = true;
  const Certificate client = MakeIssuedCertificate(server_only, ca);
  Start(server_cert_, ca.cert_pem);
  grpc::Status status = Probe(server_cert_, client);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_THAT(log_.Text(), HasSubstr("rejected: unsuitable certificate purpose"));
}

TEST_F(MutualTlsServerTest, GivesNoAnswerInPlaintext) {
  Start(server_cert_, client_cert_.cert_pem);
  grpc::Status status = CallProbe(MakeInsecureChannel(server_->address()));
  EXPECT_FALSE(status.ok());
}

TEST_F(MutualTlsServerTest, ServesTls13WithH2LikeTheOperatorExpects) {
  Start(server_cert_, client_cert_.cert_pem);
  absl::StatusOr<TlsProbeResult> result =
      RawHandshake(TlsVersion::k1_3, TlsVersion::k1_3, &client_cert_);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->version, "TLSv1.3");
  EXPECT_EQ(result->alpn, "h2");
  EXPECT_TRUE(result->http2_settings_received);
}

// Go's crypto/tls client (the operator) withholds its certificate when the
// server names acceptable issuers and its own issuer is not among them, which
// would defeat a pinned CA-issued leaf. This server names none.
TEST_F(MutualTlsServerTest, AsksForAClientCertificateWithoutNamingIssuers) {
  Start(server_cert_, client_cert_.cert_pem);
  absl::StatusOr<TlsProbeResult> result =
      RawHandshake(TlsVersion::k1_3, TlsVersion::k1_3, &client_cert_);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->acceptable_ca_names, 0);
}

TEST_F(MutualTlsServerTest, RefusesTls12EvenWithAValidClientCertificate) {
  Start(server_cert_, client_cert_.cert_pem);
  absl::StatusOr<TlsProbeResult> result =
      RawHandshake(TlsVersion::k1_2, TlsVersion::k1_2, &client_cert_);
  ASSERT_FALSE(result.ok()) << "TLS 1.2 handshake succeeded: " << result->version;
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("TLS handshake failed"));
  // The client gets no alert (gRPC closes the connection without sending
  // OpenSSL's handshake_failure): docs/tls.md says so. The server says why.
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("unexpected eof"));
  EXPECT_TRUE(Eventually([&] { return log_.Text().find("no shared cipher") != std::string::npos; }))
      << log_.Text();
}

// A client that allows both versions still gets TLS 1.3: what a default
// OpenSSL or gRPC client sees.
TEST_F(MutualTlsServerTest, NegotiatesTls13WithAClientThatAlsoOffersTls12) {
  Start(server_cert_, client_cert_.cert_pem);
  absl::StatusOr<TlsProbeResult> result =
      RawHandshake(TlsVersion::k1_2, TlsVersion::k1_3, &client_cert_);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->version, "TLSv1.3");
}

// With TLS 1.3 the client finishes its handshake before the server has
// looked at the client certificate: the refusal shows as a connection closed
// before the server's first HTTP/2 frame.
TEST_F(MutualTlsServerTest, ClosesATls13ConnectionWithAnUntrustedCertificate) {
  Start(server_cert_, client_cert_.cert_pem);
  const Certificate stranger = MakeClientCertificate("cnpgi-test-stranger");
  absl::StatusOr<TlsProbeResult> result =
      RawHandshake(TlsVersion::k1_3, TlsVersion::k1_3, &stranger);
  EXPECT_FALSE(result.ok()) << "the server sent HTTP/2 frames to an untrusted client";
  EXPECT_THAT(log_.Text(), HasSubstr("rejected: self-signed certificate"));
}

TEST_F(MutualTlsServerTest, ClosesATls13ConnectionWithoutCertificate) {
  Start(server_cert_, client_cert_.cert_pem);
  absl::StatusOr<TlsProbeResult> result = RawHandshake(TlsVersion::k1_3, TlsVersion::k1_3, nullptr);
  EXPECT_FALSE(result.ok()) << "the server sent HTTP/2 frames to a client without certificate";
}

// The enforcement replaces whatever the environment asked for: a cipher
// list with TLS 1.2 suites set before the server must not re-enable TLS 1.2.
TEST_F(MutualTlsServerTest, RefusesTls12EvenWhenTheEnvironmentListsTls12Ciphers) {
  ASSERT_EQ(setenv("GRPC_SSL_CIPHER_SUITES", "ECDHE-ECDSA-AES128-GCM-SHA256", 1), 0);
  Start(server_cert_, client_cert_.cert_pem);
  EXPECT_EQ(std::string(getenv("GRPC_SSL_CIPHER_SUITES")),
            std::string(internal::kNoTls12CipherSuites));
  absl::StatusOr<TlsProbeResult> result =
      RawHandshake(TlsVersion::k1_2, TlsVersion::k1_2, &client_cert_);
  EXPECT_FALSE(result.ok()) << "TLS 1.2 handshake succeeded";
}

// The client certificate file is read on every handshake: a rotated client
// Secret applies to the very next connection, no reload interval involved.
TEST_F(MutualTlsServerTest, AppliesARotatedClientCertificateToTheNextConnection) {
  Start(server_cert_, client_cert_.cert_pem);
  ASSERT_TRUE(Probe(server_cert_, client_cert_).ok());

  const Certificate new_client = MakeClientCertificate("cnpgi-test-operator-renewed");
  client_secret_->Update({{"tls.crt", new_client.cert_pem}});

  grpc::Status with_new = Probe(server_cert_, new_client);
  EXPECT_TRUE(with_new.ok()) << with_new.error_code() << ": " << with_new.error_message();
  grpc::Status with_old = Probe(server_cert_, client_cert_);
  EXPECT_EQ(with_old.error_code(), grpc::StatusCode::UNAVAILABLE) << with_old.error_message();
  EXPECT_THAT(log_.Text(), HasSubstr(R"(\"CN=cnpgi-test-operator,O=cnpgi-cpp tests\" rejected)"));
}

// Kubernetes renews both Secrets (cert-manager, 15 days before expiry): the
// server picks up its new identity within the reload interval and trusts only
// the new client certificate, without a restart.
TEST_F(MutualTlsServerTest, PicksUpRotatedServerAndClientCertificatesWithoutRestart) {
  Start(server_cert_, client_cert_.cert_pem);
  ASSERT_TRUE(Probe(server_cert_, client_cert_).ok());

  const Certificate new_server = MakeServerCertificate();
  const Certificate new_client = MakeClientCertificate("cnpgi-test-operator-renewed");
  server_secret_->Update({{"tls.crt", new_server.cert_pem}, {"tls.key", new_server.key_pem}});
  client_secret_->Update({{"tls.crt", new_client.cert_pem}});

  // Only the server identity waits for the reload timer.
  grpc::Status last;
  EXPECT_TRUE(Eventually([&] {
    last = Probe(new_server, new_client);
    return last.ok();
  })) << "the new certificates were never accepted: "
      << last.error_message();

  grpc::Status old_client = Probe(new_server, client_cert_);
  EXPECT_EQ(old_client.error_code(), grpc::StatusCode::UNAVAILABLE)
      << "the replaced client certificate is still accepted";
  grpc::Status old_server = Probe(server_cert_, new_client);
  EXPECT_EQ(old_server.error_code(), grpc::StatusCode::UNAVAILABLE)
      << "the server still presents its replaced certificate";
}

// A Secret that disappears (or is briefly unreadable) must not take the
// server's identity with it: handshakes keep using the last good pair.
TEST_F(MutualTlsServerTest, KeepsItsIdentityWhenTheServerSecretDisappears) {
  Start(server_cert_, client_cert_.cert_pem);
  ASSERT_TRUE(Probe(server_cert_, client_cert_).ok());

  server_secret_->Update({});  // tls.crt and tls.key vanish
  // gRPC's file watcher says so (through the SDK's log) when it finds the
  // files gone: only then does the probe below show anything.
  const std::string noticed = "Failed to get the file's modification time of " + Files().server_key;
  ASSERT_TRUE(Eventually([&] { return log_.Text().find(noticed) != std::string::npos; }))
      << "the watcher never looked at the files again";
  grpc::Status status = Probe(server_cert_, client_cert_);
  EXPECT_TRUE(status.ok()) << status.error_code() << ": " << status.error_message();
}

// Files replaced out of step (a key that does not match the certificate)
// stop new handshakes in gRPC 1.51 (docs/tls.md); publishing a matching pair
// brings the server back without a restart.
TEST_F(MutualTlsServerTest, RecoversWhenAMismatchedPairIsReplacedByAMatchingOne) {
  Start(server_cert_, client_cert_.cert_pem);
  ASSERT_TRUE(Probe(server_cert_, client_cert_).ok());

  const Certificate other = MakeServerCertificate();
  server_secret_->Update({{"tls.crt", server_cert_.cert_pem}, {"tls.key", other.key_pem}});
  // Once the watcher has taken the mismatched pair, handshakes fail.
  ASSERT_TRUE(Eventually([&] { return !Probe(server_cert_, client_cert_).ok(); }))
      << "the mismatched pair was never taken";

  server_secret_->Update({{"tls.crt", other.cert_pem}, {"tls.key", other.key_pem}});
  grpc::Status last;
  EXPECT_TRUE(Eventually([&] {
    last = Probe(other, client_cert_);
    return last.ok();
  })) << last.error_message();
}

// A client Secret that disappears trusts nobody (fail closed, as Go does).
TEST_F(MutualTlsServerTest, TrustsNobodyWhenTheClientCertificateFileDisappears) {
  Start(server_cert_, client_cert_.cert_pem);
  ASSERT_TRUE(Probe(server_cert_, client_cert_).ok());
  client_secret_->Update({});
  grpc::Status status = Probe(server_cert_, client_cert_);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE) << status.error_message();
  EXPECT_THAT(log_.Text(), HasSubstr("--client-cert) cannot be opened"));
}

TEST(MutualTlsServerCredentialsTest, RefusesAReloadIntervalThatIsNotPositive) {
  TempDir dir;
  const Certificate server = MakeServerCertificate();
  const Certificate client = MakeClientCertificate();
  auto server_files = testing_support::WritePemFiles(dir.path(), "server", server);
  auto client_files = testing_support::WritePemFiles(dir.path(), "client", client);
  const MutualTlsFiles files{.server_cert = server_files.cert.string(),
                             .server_key = server_files.key.string(),
                             .client_cert = client_files.cert.string()};
  for (absl::Duration interval :
       {absl::ZeroDuration(), absl::Seconds(-1), absl::InfiniteDuration()}) {
    auto credentials = MakeMutualTlsServerCredentials(files, interval);
    EXPECT_EQ(credentials.status().code(), absl::StatusCode::kInvalidArgument)
        << absl::FormatDuration(interval);
  }
  EXPECT_TRUE(MakeMutualTlsServerCredentials(files, absl::Milliseconds(10)).ok());
}

TEST(MutualTlsServerCredentialsTest, RefusesFilesThatDoNotValidate) {
  TempDir dir;
  const MutualTlsFiles files{.server_cert = (dir / "missing.crt").string(),
                             .server_key = (dir / "missing.key").string(),
                             .client_cert = (dir / "missing-client.crt").string()};
  auto credentials = MakeMutualTlsServerCredentials(files, kReloadInterval);
  EXPECT_EQ(credentials.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(credentials.status().message()), HasSubstr(files.server_cert));
}

}  // namespace
}  // namespace cnpgi::tls_test
