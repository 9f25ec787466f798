// ValidateMutualTlsFiles(): one test per refusal, each checking that the
// message names the offending file (and its flag) and the problem.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/temp_dir.h"
#include "support/test_certificates.h"
#include "tls/mutual_tls.h"

namespace cnpgi::tls_test {
namespace {

using ::cnpgi::internal::MutualTlsFiles;
using ::cnpgi::internal::ValidateMutualTlsFiles;
using ::cnpgi::testing_support::Certificate;
using ::cnpgi::testing_support::CertificateOptions;
using ::cnpgi::testing_support::KeyAlgorithm;
using ::cnpgi::testing_support::MakeCertificateAuthority;
using ::cnpgi::testing_support::MakeClientCertificate;
using ::cnpgi::testing_support::MakeIssuedCertificate;
using ::cnpgi::testing_support::MakeSelfSignedCertificate;
using ::cnpgi::testing_support::MakeServerCertificate;
using ::cnpgi::testing_support::TempDir;
using ::cnpgi::testing_support::WriteFile;
using ::testing::AllOf;
using ::testing::HasSubstr;

class ValidateMutualTlsFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    WriteFile(files_.server_cert, server_.cert_pem);
    WriteFile(files_.server_key, server_.key_pem);
    WriteFile(files_.client_cert, client_.cert_pem);
  }

  // Validates after replacing one file's content.
  absl::Status ValidateWith(const std::string& path, const std::string& content) {
    WriteFile(path, content);
    return ValidateMutualTlsFiles(files_);
  }

  TempDir dir_;
  Certificate server_ = MakeServerCertificate();
  Certificate client_ = MakeClientCertificate();
  MutualTlsFiles files_{.server_cert = (dir_ / "server.crt").string(),
                        .server_key = (dir_ / "server.key").string(),
                        .client_cert = (dir_ / "client.crt").string()};
};

MATCHER_P2(IsErrorNaming, code, fragments, "") {
  if (arg.code() != code) {
    *result_listener << "code is " << absl::StatusCodeToString(arg.code()) << ": " << arg.message();
    return false;
  }
  const std::string message(arg.message());
  for (const std::string& fragment : fragments) {
    if (message.find(fragment) == std::string::npos) {
      *result_listener << "message lacks \"" << fragment << "\": " << message;
      return false;
    }
  }
  return true;
}

using Fragments = std::vector<std::string>;

TEST_F(ValidateMutualTlsFilesTest, AcceptsSelfSignedCertificatesLikeCertManagers) {
  EXPECT_TRUE(ValidateMutualTlsFiles(files_).ok()) << ValidateMutualTlsFiles(files_);
}

TEST_F(ValidateMutualTlsFilesTest, AcceptsRsaKeysAndAServerChainAndACaBundle) {
  const Certificate ca = MakeCertificateAuthority();
  CertificateOptions options = testing_support::ServerOptions();
  options.key_algorithm = KeyAlgorithm::kRsa2048;
  const Certificate server = MakeIssuedCertificate(options, ca);
  WriteFile(files_.server_cert, server.cert_pem + ca.cert_pem);
  WriteFile(files_.server_key, server.key_pem);
  WriteFile(files_.client_cert, ca.cert_pem + client_.cert_pem);
  EXPECT_TRUE(ValidateMutualTlsFiles(files_).ok()) << ValidateMutualTlsFiles(files_);
}

TEST_F(ValidateMutualTlsFilesTest, RefusesAnEmptyPath) {
  files_.server_key.clear();
  EXPECT_THAT(ValidateMutualTlsFiles(files_),
              IsErrorNaming(absl::StatusCode::kInvalidArgument,
                            Fragments{"server private key file", "--server-key", "not set"}));
}

TEST_F(ValidateMutualTlsFilesTest, RefusesAMissingServerCertificate) {
  files_.server_cert = (dir_ / "nowhere.crt").string();
  EXPECT_THAT(
      ValidateMutualTlsFiles(files_),
      IsErrorNaming(absl::StatusCode::kNotFound,
                    Fragments{files_.server_cert, "--server-cert", "No such file or directory"}));
}

TEST_F(ValidateMutualTlsFilesTest, RefusesAMissingServerKey) {
  files_.server_key = (dir_ / "nowhere.key").string();
  EXPECT_THAT(ValidateMutualTlsFiles(files_),
              IsErrorNaming(absl::StatusCode::kNotFound,
                            Fragments{files_.server_key, "--server-key", "No such file"}));
}

TEST_F(ValidateMutualTlsFilesTest, RefusesAMissingClientCertificate) {
  files_.client_cert = (dir_ / "nowhere-client.crt").string();
  EXPECT_THAT(ValidateMutualTlsFiles(files_),
              IsErrorNaming(absl::StatusCode::kNotFound,
                            Fragments{files_.client_cert, "--client-cert", "No such file"}));
}

// Tests run as root in CI, where permission bits do not stop a read; a
// directory is unreadable as a file for everyone.
TEST_F(ValidateMutualTlsFilesTest, RefusesAnUnreadableFile) {
  files_.client_cert = dir_.path().string();
  EXPECT_THAT(ValidateMutualTlsFiles(files_),
              IsErrorNaming(absl::StatusCode::kFailedPrecondition,
                            Fragments{files_.client_cert, "--client-cert", "is a directory"}));
}

TEST_F(ValidateMutualTlsFilesTest, RefusesAnEmptyFile) {
  EXPECT_THAT(
      ValidateWith(files_.server_cert, ""),
      IsErrorNaming(absl::StatusCode::kInvalidArgument, Fragments{files_.server_cert, "is empty"}));
}

TEST_F(ValidateMutualTlsFilesTest, RefusesAFileThatIsNotPem) {
  EXPECT_THAT(ValidateWith(files_.server_cert, "this is not a certificate\n"),
              IsErrorNaming(absl::StatusCode::kInvalidArgument,
                            Fragments{files_.server_cert, "is not PEM"}));
}

TEST_F(ValidateMutualTlsFilesTest, RefusesDamagedPem) {
  EXPECT_THAT(ValidateWith(files_.client_cert,
                           "-----BEGIN CERTIFICATE-----\n!!!!not base64!!!!\n"
                           "-----END CERTIFICATE-----\n"),
              IsErrorNaming(absl::StatusCode::kInvalidArgument,
                            Fragments{files_.client_cert, "not valid PEM"}));
}

TEST_F(ValidateMutualTlsFilesTest, RefusesACertificateBlockThatIsNotACertificate) {
  // Valid PEM, valid base64, but the bytes are not DER.
  EXPECT_THAT(ValidateWith(files_.server_cert,
                           "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n"
                           "-----END CERTIFICATE-----\n"),
              IsErrorNaming(absl::StatusCode::kInvalidArgument,
                            Fragments{files_.server_cert, "not a valid certificate"}));
}

TEST_F(ValidateMutualTlsFilesTest, RefusesAServerCertificateFileWithoutCertificate) {
  EXPECT_THAT(
      ValidateWith(files_.server_cert, server_.key_pem),
      IsErrorNaming(absl::StatusCode::kInvalidArgument,
                    Fragments{files_.server_cert, "contains no certificate", "PRIVATE KEY"}));
}

TEST_F(ValidateMutualTlsFilesTest, RefusesAClientCaFileWithoutCertificate) {
  EXPECT_THAT(
      ValidateWith(files_.client_cert, client_.key_pem),
      IsErrorNaming(absl::StatusCode::kInvalidArgument,
                    Fragments{files_.client_cert, "--client-cert", "contains no certificate"}));
}

TEST_F(ValidateMutualTlsFilesTest, RefusesAKeyFileWithoutKey) {
  EXPECT_THAT(
      ValidateWith(files_.server_key, server_.cert_pem),
      IsErrorNaming(absl::StatusCode::kInvalidArgument,
                    Fragments{files_.server_key, "contains no private key", "CERTIFICATE"}));
}

TEST_F(ValidateMutualTlsFilesTest, RefusesAnEncryptedKey) {
  EXPECT_THAT(
      ValidateWith(files_.server_key, testing_support::EncryptedPrivateKeyPem(server_, "secret")),
      IsErrorNaming(absl::StatusCode::kInvalidArgument, Fragments{files_.server_key, "encrypted"}));
}

TEST_F(ValidateMutualTlsFilesTest, RefusesAKeyThatDoesNotMatchTheCertificate) {
  const Certificate other = MakeServerCertificate();
  EXPECT_THAT(ValidateWith(files_.server_key, other.key_pem),
              IsErrorNaming(absl::StatusCode::kInvalidArgument,
                            Fragments{files_.server_key, files_.server_cert, "does not match"}));
}

TEST_F(ValidateMutualTlsFilesTest, RefusesAnExpiredServerCertificate) {
  const Certificate expired =
      MakeSelfSignedCertificate(testing_support::Expired(testing_support::ServerOptions()));
  WriteFile(files_.server_key, expired.key_pem);
  EXPECT_THAT(ValidateWith(files_.server_cert, expired.cert_pem),
              IsErrorNaming(absl::StatusCode::kFailedPrecondition,
                            Fragments{files_.server_cert, "expired on"}));
}

TEST_F(ValidateMutualTlsFilesTest, RefusesANotYetValidServerCertificate) {
  const Certificate future =
      MakeSelfSignedCertificate(testing_support::NotYetValid(testing_support::ServerOptions()));
  WriteFile(files_.server_key, future.key_pem);
  EXPECT_THAT(ValidateWith(files_.server_cert, future.cert_pem),
              IsErrorNaming(absl::StatusCode::kFailedPrecondition,
                            Fragments{files_.server_cert, "not valid before"}));
}

TEST_F(ValidateMutualTlsFilesTest, RefusesAnExpiredIntermediateInTheServerChain) {
  const Certificate ca =
      MakeSelfSignedCertificate(testing_support::Expired(testing_support::CaOptions()));
  const Certificate server = MakeIssuedCertificate(testing_support::ServerOptions(), ca);
  WriteFile(files_.server_key, server.key_pem);
  EXPECT_THAT(
      ValidateWith(files_.server_cert, server.cert_pem + ca.cert_pem),
      IsErrorNaming(absl::StatusCode::kFailedPrecondition,
                    Fragments{files_.server_cert, "cnpgi-test-ca", "number 2", "expired on"}));
}

TEST_F(ValidateMutualTlsFilesTest, RefusesAServerCertificateWithoutDnsName) {
  CertificateOptions options = testing_support::ServerOptions();
  options.dns_names.clear();
  const Certificate server = MakeSelfSignedCertificate(options);
  WriteFile(files_.server_key, server.key_pem);
  EXPECT_THAT(ValidateWith(files_.server_cert, server.cert_pem),
              IsErrorNaming(absl::StatusCode::kInvalidArgument,
                            Fragments{files_.server_cert, "no DNS name"}));
}

TEST_F(ValidateMutualTlsFilesTest, RefusesAServerCertificateNotMeantForServers) {
  CertificateOptions options = testing_support::ServerOptions();
  options.server_auth = false;
  options.client_auth = true;
  const Certificate server = MakeSelfSignedCertificate(options);
  WriteFile(files_.server_key, server.key_pem);
  EXPECT_THAT(ValidateWith(files_.server_cert, server.cert_pem),
              IsErrorNaming(absl::StatusCode::kInvalidArgument,
                            Fragments{files_.server_cert, "serverAuth"}));
}

TEST_F(ValidateMutualTlsFilesTest, RefusesAnExpiredClientCertificate) {
  const Certificate expired =
      MakeSelfSignedCertificate(testing_support::Expired(testing_support::ClientOptions()));
  EXPECT_THAT(
      ValidateWith(files_.client_cert, expired.cert_pem),
      IsErrorNaming(absl::StatusCode::kFailedPrecondition,
                    Fragments{files_.client_cert, "cannot accept any client", "expired on"}));
}

// During a CA rollover a bundle can hold an expired certificate next to a
// valid one; that still accepts clients, as it does in Go.
TEST_F(ValidateMutualTlsFilesTest, AcceptsAClientBundleWithOneExpiredCertificate) {
  const Certificate expired =
      MakeSelfSignedCertificate(testing_support::Expired(testing_support::ClientOptions()));
  EXPECT_TRUE(ValidateWith(files_.client_cert, expired.cert_pem + client_.cert_pem).ok());
}

TEST_F(ValidateMutualTlsFilesTest, RefusesAClientCertificateNotMeantForClients) {
  CertificateOptions options = testing_support::ClientOptions();
  options.client_auth = false;
  options.server_auth = true;
  EXPECT_THAT(ValidateWith(files_.client_cert, MakeSelfSignedCertificate(options).cert_pem),
              IsErrorNaming(absl::StatusCode::kInvalidArgument,
                            Fragments{files_.client_cert, "clientAuth"}));
}

}  // namespace
}  // namespace cnpgi::tls_test
