// The shared test support library, checked where the TLS tests depend on it:
// certificates carry what their options say, Secret volumes update the way
// the kubelet does, temporary directories go away.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "support/secret_volume.h"
#include "support/temp_dir.h"
#include "support/test_certificates.h"

namespace cnpgi::tls_test {
namespace {

using ::cnpgi::testing_support::Certificate;
using ::cnpgi::testing_support::SecretVolume;
using ::cnpgi::testing_support::TempDir;

struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr Parse(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  return X509Ptr(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

std::string ReadAll(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

TEST(TlsSupportTest, ServerCertificateCarriesTheServiceNameAndServerAuth) {
  const Certificate server = testing_support::MakeServerCertificate("my-plugin");
  X509Ptr cert = Parse(server.cert_pem);
  ASSERT_NE(cert, nullptr);
  EXPECT_EQ(X509_check_host(cert.get(), "my-plugin", 0, 0, nullptr), 1);
  EXPECT_NE(X509_get_extended_key_usage(cert.get()) & XKU_SSL_SERVER, 0u);
  EXPECT_EQ(X509_get_extended_key_usage(cert.get()) & XKU_SSL_CLIENT, 0u);
  // Self-signed like cert-manager's selfSigned issuer makes them: its own
  // issuer and signed by its own key, yet no keyCertSign usage.
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(cert.get()), X509_get_issuer_name(cert.get())), 0);
  EXPECT_EQ(X509_verify(cert.get(), X509_get0_pubkey(cert.get())), 1);
}

TEST(TlsSupportTest, IssuedCertificateChainsToItsCa) {
  const Certificate ca = testing_support::MakeCertificateAuthority();
  const Certificate client =
      testing_support::MakeIssuedCertificate(testing_support::ClientOptions(), ca);
  X509Ptr ca_cert = Parse(ca.cert_pem);
  X509Ptr client_cert = Parse(client.cert_pem);
  ASSERT_NE(ca_cert, nullptr);
  ASSERT_NE(client_cert, nullptr);
  EXPECT_EQ(X509_check_ca(ca_cert.get()), 1);
  EXPECT_EQ(X509_check_issued(ca_cert.get(), client_cert.get()), X509_V_OK);
  EXPECT_NE(X509_get_extended_key_usage(client_cert.get()) & XKU_SSL_CLIENT, 0u);
}

TEST(TlsSupportTest, ExpiredCertificateLiesInThePast) {
  const Certificate expired = testing_support::MakeSelfSignedCertificate(
      testing_support::Expired(testing_support::ClientOptions()));
  X509Ptr cert = Parse(expired.cert_pem);
  ASSERT_NE(cert, nullptr);
  EXPECT_LT(X509_cmp_current_time(X509_get0_notAfter(cert.get())), 0);
}

TEST(TlsSupportTest, SecretVolumeSwapsEveryFileAtOnceBehindStablePaths) {
  TempDir dir;
  SecretVolume volume(dir / "secret", {{"tls.crt", "one-crt"}, {"tls.key", "one-key"}});
  EXPECT_TRUE(std::filesystem::is_symlink(volume.path("tls.crt")));
  EXPECT_TRUE(std::filesystem::is_symlink(volume.dir() / "..data"));
  EXPECT_EQ(ReadAll(volume.path("tls.crt")), "one-crt");

  volume.Update({{"tls.crt", "two-crt"}, {"tls.key", "two-key"}});
  EXPECT_EQ(ReadAll(volume.path("tls.crt")), "two-crt");
  EXPECT_EQ(ReadAll(volume.path("tls.key")), "two-key");

  volume.Update({{"tls.crt", "three-crt"}});
  EXPECT_FALSE(std::filesystem::exists(volume.path("tls.key")));
}

TEST(TlsSupportTest, TempDirIsRemovedWithItsContent) {
  std::filesystem::path path;
  {
    TempDir dir;
    path = dir.path();
    testing_support::WriteFile(dir / "file", "content");
    std::filesystem::create_directory(dir / "sub");
    testing_support::WriteFile(dir / "sub" / "file", "content");
    EXPECT_TRUE(std::filesystem::exists(path));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
}

}  // namespace
}  // namespace cnpgi::tls_test
