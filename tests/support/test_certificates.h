// X.509 certificates and keys made at test time with the OpenSSL 3 C API, so
// that no private key is ever committed and validity periods are relative to
// the moment the test runs.
//
// Every function throws std::runtime_error (with OpenSSL's reason) when
// OpenSSL fails; GoogleTest reports that as a failure of the calling test.
//
//   Certificate server = MakeServerCertificate();   // SAN DNS:cnpgi-test-plugin
//   Certificate client = MakeClientCertificate();   // clientAuth
//   PemFiles files = WritePemFiles(dir.path(), "server", server);
#ifndef CNPGI_TESTS_SUPPORT_TEST_CERTIFICATES_H_
#define CNPGI_TESTS_SUPPORT_TEST_CERTIFICATES_H_

#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace cnpgi::testing_support {

// The DNS name the test server certificates carry; clients override the TLS
// target name to it, as the operator verifies the short Service name.
inline constexpr std::string_view kTestServerName = "cnpgi-test-plugin";

enum class KeyAlgorithm {
  kEcdsaP256,  // fast to generate: the default
  kRsa2048,    // what cert-manager issues by default
};

struct CertificateOptions {
  std::string common_name = "cnpgi-test";
  // subjectAltName DNS entries; none means no subjectAltName extension.
  std::vector<std::string> dns_names;
  // basicConstraints CA:TRUE and keyUsage keyCertSign, cRLSign.
  bool is_ca = false;
  // extendedKeyUsage entries; neither means no extendedKeyUsage extension.
  bool server_auth = false;
  bool client_auth = false;
  // Validity relative to now; negative values lie in the past.
  std::chrono::seconds not_before = std::chrono::hours(-1);
  std::chrono::seconds not_after = std::chrono::hours(24);
  KeyAlgorithm key_algorithm = KeyAlgorithm::kEcdsaP256;
};

// One certificate and its private key, both PEM (the key unencrypted PKCS#8).
struct Certificate {
  std::string cert_pem;
  std::string key_pem;
};

// A certificate signed by its own key.
Certificate MakeSelfSignedCertificate(const CertificateOptions& options);
// A certificate signed by `issuer` (whose key_pem must be set).
Certificate MakeIssuedCertificate(const CertificateOptions& options, const Certificate& issuer);

// Presets shaped like cert-manager's selfSigned certificates in CloudNativePG
// plugin manifests.
// Self-signed, serverAuth, subjectAltName DNS:<dns_name>.
Certificate MakeServerCertificate(std::string_view dns_name = kTestServerName);
// Self-signed, clientAuth.
Certificate MakeClientCertificate(std::string_view common_name = "cnpgi-test-operator");
// Self-signed CA (CA:TRUE, keyCertSign).
Certificate MakeCertificateAuthority(std::string_view common_name = "cnpgi-test-ca");

// The validity window every preset uses, moved entirely into the past (or
// the future): for expired and not-yet-valid certificates.
CertificateOptions Expired(CertificateOptions options);
CertificateOptions NotYetValid(CertificateOptions options);
// The options the presets above use, to be tweaked.
CertificateOptions ServerOptions(std::string_view dns_name = kTestServerName);
CertificateOptions ClientOptions(std::string_view common_name = "cnpgi-test-operator");
CertificateOptions CaOptions(std::string_view common_name = "cnpgi-test-ca");

// `certificate.key_pem` encrypted with `passphrase` (AES-256-CBC, PKCS#8),
// as "-----BEGIN ENCRYPTED PRIVATE KEY-----".
std::string EncryptedPrivateKeyPem(const Certificate& certificate, std::string_view passphrase);

struct PemFiles {
  std::filesystem::path cert;
  std::filesystem::path key;
};

// Writes <dir>/<stem>.crt and <dir>/<stem>.key.
PemFiles WritePemFiles(const std::filesystem::path& dir, std::string_view stem,
                       const Certificate& certificate);

}  // namespace cnpgi::testing_support

#endif  // CNPGI_TESTS_SUPPORT_TEST_CERTIFICATES_H_
