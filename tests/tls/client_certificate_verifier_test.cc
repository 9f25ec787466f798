// The client-certificate decision on its own, without a network: Go-like
// partial chains, validity, key usage, and the file re-read per handshake.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>

#include "support/temp_dir.h"
#include "support/test_certificates.h"
#include "tls/client_certificate_verifier.h"

namespace cnpgi::tls_test {
namespace {

using ::cnpgi::internal::ClientCertificateFile;
using ::cnpgi::internal::ClientCertificateVerifier;
using ::cnpgi::internal::ClientTrustAnchors;
using ::cnpgi::testing_support::Certificate;
using ::cnpgi::testing_support::CertificateOptions;
using ::cnpgi::testing_support::MakeCertificateAuthority;
using ::cnpgi::testing_support::MakeClientCertificate;
using ::cnpgi::testing_support::MakeIssuedCertificate;
using ::cnpgi::testing_support::MakeSelfSignedCertificate;
using ::cnpgi::testing_support::TempDir;
using ::cnpgi::testing_support::WriteFile;
using ::testing::HasSubstr;

absl::Status Verify(const std::string& trusted_pem, const std::string& leaf_pem,
                    const std::string& chain_pem = "") {
  auto anchors = ClientTrustAnchors::FromPem(trusted_pem);
  if (!anchors.ok()) return anchors.status();
  return (*anchors)->Verify(leaf_pem, chain_pem);
}

std::string Message(const absl::Status& status) { return std::string(status.message()); }

TEST(MutualTlsClientVerifierTest, AcceptsThePinnedSelfSignedCertificate) {
  const Certificate client = MakeClientCertificate();
  EXPECT_TRUE(Verify(client.cert_pem, client.cert_pem).ok());
}

TEST(MutualTlsClientVerifierTest, RefusesAnotherSelfSignedCertificateNamingIt) {
  const Certificate pinned = MakeClientCertificate();
  const Certificate other = MakeClientCertificate("cnpgi-test-stranger");
  absl::Status status = Verify(pinned.cert_pem, other.cert_pem);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(Message(status), HasSubstr("CN=cnpgi-test-stranger"));
  EXPECT_THAT(Message(status), HasSubstr("self-signed certificate"));
}

TEST(MutualTlsClientVerifierTest, AcceptsAPinnedLeafWithoutItsIssuer) {
  const Certificate ca = MakeCertificateAuthority();
  const Certificate client = MakeIssuedCertificate(testing_support::ClientOptions(), ca);
  EXPECT_TRUE(Verify(client.cert_pem, client.cert_pem).ok());
}

TEST(MutualTlsClientVerifierTest, AcceptsALeafOfAPinnedCa) {
  const Certificate ca = MakeCertificateAuthority();
  const Certificate client = MakeIssuedCertificate(testing_support::ClientOptions(), ca);
  EXPECT_TRUE(Verify(ca.cert_pem, client.cert_pem).ok());
}

TEST(MutualTlsClientVerifierTest, FollowsTheIntermediatesTheClientSends) {
  const Certificate root = MakeCertificateAuthority("cnpgi-test-root");
  const Certificate intermediate =
      MakeIssuedCertificate(testing_support::CaOptions("cnpgi-test-intermediate"), root);
  const Certificate client = MakeIssuedCertificate(testing_support::ClientOptions(), intermediate);
  EXPECT_TRUE(Verify(root.cert_pem, client.cert_pem, intermediate.cert_pem).ok());
  // The chain as OpenSSL clients send it, leaf included, works as well.
  EXPECT_TRUE(Verify(root.cert_pem, client.cert_pem, client.cert_pem + intermediate.cert_pem).ok());

  absl::Status without_intermediate = Verify(root.cert_pem, client.cert_pem);
  EXPECT_EQ(without_intermediate.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(Message(without_intermediate), HasSubstr("unable to get local issuer certificate"));
}

TEST(MutualTlsClientVerifierTest, AcceptsAPinnedIntermediateWithoutTheRoot) {
  const Certificate root = MakeCertificateAuthority("cnpgi-test-root");
  const Certificate intermediate =
      MakeIssuedCertificate(testing_support::CaOptions("cnpgi-test-intermediate"), root);
  const Certificate client = MakeIssuedCertificate(testing_support::ClientOptions(), intermediate);
  EXPECT_TRUE(Verify(intermediate.cert_pem, client.cert_pem).ok());
}

TEST(MutualTlsClientVerifierTest, RefusesAnExpiredCertificate) {
  const Certificate ca = MakeCertificateAuthority();
  const Certificate client =
      MakeIssuedCertificate(testing_support::Expired(testing_support::ClientOptions()), ca);
  absl::Status status = Verify(ca.cert_pem, client.cert_pem);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(Message(status), HasSubstr("certificate has expired"));
}

TEST(MutualTlsClientVerifierTest, RefusesAPinnedCertificateOnceExpired) {
  const Certificate client =
      MakeSelfSignedCertificate(testing_support::Expired(testing_support::ClientOptions()));
  absl::Status status = Verify(client.cert_pem, client.cert_pem);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(Message(status), HasSubstr("certificate has expired"));
}

TEST(MutualTlsClientVerifierTest, RefusesACertificateNotMeantForClients) {
  const Certificate ca = MakeCertificateAuthority();
  CertificateOptions options = testing_support::ClientOptions();
  options.client_auth = false;
  options.server_auth = true;
  absl::Status status = Verify(ca.cert_pem, MakeIssuedCertificate(options, ca).cert_pem);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(Message(status), HasSubstr("unsuitable certificate purpose"));
}

TEST(MutualTlsClientVerifierTest, AcceptsACertificateWithoutExtendedKeyUsage) {
  const Certificate ca = MakeCertificateAuthority();
  CertificateOptions options = testing_support::ClientOptions();
  options.client_auth = false;  // no extendedKeyUsage at all: any usage
  EXPECT_TRUE(Verify(ca.cert_pem, MakeIssuedCertificate(options, ca).cert_pem).ok());
}

TEST(MutualTlsClientVerifierTest, RefusesAClientWithoutCertificate) {
  const Certificate client = MakeClientCertificate();
  absl::Status status = Verify(client.cert_pem, "");
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(Message(status), HasSubstr("no certificate"));
}

TEST(MutualTlsClientVerifierTest, RefusesTrustWithoutCertificate) {
  const Certificate client = MakeClientCertificate();
  EXPECT_EQ(ClientTrustAnchors::FromPem(client.key_pem).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MutualTlsClientVerifierTest, ToleratesACertificateListedTwice) {
  const Certificate client = MakeClientCertificate();
  EXPECT_TRUE(Verify(client.cert_pem + client.cert_pem, client.cert_pem).ok());
}

TEST(MutualTlsClientVerifierTest, RereadsTheFileWhenItChangesAndOnlyThen) {
  TempDir dir;
  const std::string path = (dir / "client.crt").string();
  const Certificate first = MakeClientCertificate("cnpgi-test-first");
  const Certificate second = MakeClientCertificate("cnpgi-test-second");
  WriteFile(path, first.cert_pem);
  ClientCertificateFile file(path);

  auto a = file.Current();
  auto b = file.Current();
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->get(), b->get()) << "unchanged content must reuse the parsed anchors";
  EXPECT_TRUE((*a)->Verify(first.cert_pem, "").ok());

  WriteFile(path, second.cert_pem);
  auto c = file.Current();
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE((*c)->Verify(second.cert_pem, "").ok());
  EXPECT_FALSE((*c)->Verify(first.cert_pem, "").ok());
}

// The verifier reuses the parsing of the certificate a client presented
// (the operator presents the same one on every connection), never a
// decision: each handshake is verified against the trust file as it is then.
TEST(MutualTlsClientVerifierTest, EveryHandshakeIsDecidedAgainstTheCurrentFile) {
  TempDir dir;
  const std::string path = (dir / "client.crt").string();
  const Certificate operator_cert = MakeClientCertificate();
  const Certificate stranger = MakeClientCertificate("cnpgi-test-stranger");
  WriteFile(path, operator_cert.cert_pem);
  ClientCertificateVerifier verifier(path);
  EXPECT_TRUE(verifier.Check(operator_cert.cert_pem, "").ok());
  EXPECT_TRUE(verifier.Check(operator_cert.cert_pem, "").ok());
  EXPECT_EQ(verifier.Check(stranger.cert_pem, "").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(verifier.Check("garbage", "").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(verifier.Check(operator_cert.cert_pem, "").ok());

  // The Secret rotated: the certificate presented just before is refused.
  WriteFile(path, stranger.cert_pem);
  EXPECT_EQ(verifier.Check(operator_cert.cert_pem, "").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(verifier.Check(stranger.cert_pem, "").ok());
}

TEST(MutualTlsClientVerifierTest, FailsClosedWhenTheFileBreaks) {
  TempDir dir;
  const std::string path = (dir / "client.crt").string();
  const Certificate client = MakeClientCertificate();
  WriteFile(path, client.cert_pem);
  ClientCertificateVerifier verifier(path);
  ASSERT_TRUE(verifier.Check(client.cert_pem, "").ok());

  WriteFile(path, "garbage\n");
  absl::Status damaged = verifier.Check(client.cert_pem, "");
  EXPECT_EQ(damaged.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(damaged), HasSubstr(path));

  std::filesystem::remove(path);
  absl::Status missing = verifier.Check(client.cert_pem, "");
  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(Message(missing), HasSubstr(path));
  EXPECT_THAT(Message(missing), HasSubstr("--client-cert"));
}

}  // namespace
}  // namespace cnpgi::tls_test
