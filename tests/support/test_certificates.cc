#include "support/test_certificates.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <string>

#include "support/temp_dir.h"

namespace cnpgi::testing_support {
namespace {

struct Free {
  void operator()(BIO* p) const { BIO_free_all(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

[[noreturn]] void Fail(std::string_view what) {
  std::string message = "test certificate generation: " + std::string(what);
  if (unsigned long code = ERR_get_error(); code != 0) {
    char reason[256];
    ERR_error_string_n(code, reason, sizeof(reason));
    message += ": ";
    message += reason;
  }
  ERR_clear_error();
  throw std::runtime_error(message);
}

void Check(int ok, std::string_view what) {
  if (ok != 1) Fail(what);
}

Owned<EVP_PKEY> GenerateKey(KeyAlgorithm algorithm) {
  EVP_PKEY* key = nullptr;
  switch (algorithm) {
    case KeyAlgorithm::kEcdsaP256:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
      break;
    case KeyAlgorithm::kRsa2048:
      key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
      break;
  }
  if (key == nullptr) Fail("generating a key");
  return Owned<EVP_PKEY>(key);
}

Owned<EVP_PKEY> ParseKey(const std::string& pem) {
  // Only ever called on keys made here, which are never encrypted.
  Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) Fail("BIO_new_mem_buf");
  Owned<EVP_PKEY> key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) Fail("parsing the issuer's private key");
  return key;
}

Owned<X509> ParseCertificate(const std::string& pem) {
  Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) Fail("BIO_new_mem_buf");
  Owned<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (cert == nullptr) Fail("parsing the issuer's certificate");
  return cert;
}

void AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Owned<X509_EXTENSION> ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (ext == nullptr) Fail("building extension " + std::string(OBJ_nid2sn(nid)) + "=" + value);
  Check(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
}

std::string ToPem(X509* cert) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr) Fail("BIO_new");
  Check(PEM_write_bio_X509(bio.get(), cert), "PEM_write_bio_X509");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

std::string ToPem(EVP_PKEY* key) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr) Fail("BIO_new");
  Check(PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr),
        "PEM_write_bio_PrivateKey");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

// `issuer_cert`/`issuer_key` null: self-signed.
Certificate Make(const CertificateOptions& options, X509* issuer_cert, EVP_PKEY* issuer_key) {
  Owned<EVP_PKEY> key = GenerateKey(options.key_algorithm);
  Owned<X509> cert(X509_new());
  if (cert == nullptr) Fail("X509_new");
  Check(X509_set_version(cert.get(), X509_VERSION_3), "X509_set_version");

  // Random serials: two certificates with the same issuer and serial would
  // confuse any verifier that caches by (issuer, serial).
  Owned<BIGNUM> serial(BN_new());
  if (serial == nullptr) Fail("BN_new");
  Check(BN_rand(serial.get(), 120, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY), "BN_rand");
  if (BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    Fail("BN_to_ASN1_INTEGER");
  }

  if (X509_gmtime_adj(X509_getm_notBefore(cert.get()), options.not_before.count()) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), options.not_after.count()) == nullptr) {
    Fail("setting the validity period");
  }

  X509_NAME* subject = X509_get_subject_name(cert.get());
  Check(X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>("cnpgi-cpp tests"), -1,
                                   -1, 0),
        "setting the subject O");
  Check(X509_NAME_add_entry_by_txt(
            subject, "CN", MBSTRING_UTF8,
            reinterpret_cast<const unsigned char*>(options.common_name.c_str()), -1, -1, 0),
        "setting the subject CN");
  X509* signer_cert = issuer_cert != nullptr ? issuer_cert : cert.get();
  EVP_PKEY* signer_key = issuer_key != nullptr ? issuer_key : key.get();
  Check(X509_set_issuer_name(cert.get(), X509_get_subject_name(signer_cert)),
        "X509_set_issuer_name");
  Check(X509_set_pubkey(cert.get(), key.get()), "X509_set_pubkey");

  const bool rsa = options.key_algorithm == KeyAlgorithm::kRsa2048;
  if (options.is_ca) {
    AddExtension(cert.get(), signer_cert, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert.get(), signer_cert, NID_key_usage,
                 "critical,keyCertSign,cRLSign,digitalSignature");
  } else {
    AddExtension(cert.get(), signer_cert, NID_basic_constraints, "critical,CA:FALSE");
    AddExtension(cert.get(), signer_cert, NID_key_usage,
                 rsa ? "critical,digitalSignature,keyEncipherment" : "critical,digitalSignature");
  }
  std::string eku;
  if (options.server_auth) eku = "serverAuth";
  if (options.client_auth) eku += eku.empty() ? "clientAuth" : ",clientAuth";
  if (!eku.empty()) AddExtension(cert.get(), signer_cert, NID_ext_key_usage, eku);
  if (!options.dns_names.empty()) {
    std::string san;
    for (const std::string& name : options.dns_names) {
      san += (san.empty() ? "DNS:" : ",DNS:") + name;
    }
    AddExtension(cert.get(), signer_cert, NID_subject_alt_name, san);
  }
  AddExtension(cert.get(), signer_cert, NID_subject_key_identifier, "hash");
  if (issuer_cert != nullptr) {
    AddExtension(cert.get(), signer_cert, NID_authority_key_identifier, "keyid:always");
  }

  if (X509_sign(cert.get(), signer_key, EVP_sha256()) <= 0) Fail("X509_sign");
  return Certificate{.cert_pem = ToPem(cert.get()), .key_pem = ToPem(key.get())};
}

}  // namespace

Certificate MakeSelfSignedCertificate(const CertificateOptions& options) {
  return Make(options, nullptr, nullptr);
}

Certificate MakeIssuedCertificate(const CertificateOptions& options, const Certificate& issuer) {
  Owned<X509> issuer_cert = ParseCertificate(issuer.cert_pem);
  Owned<EVP_PKEY> issuer_key = ParseKey(issuer.key_pem);
  return Make(options, issuer_cert.get(), issuer_key.get());
}

CertificateOptions ServerOptions(std::string_view dns_name) {
  CertificateOptions options;
  options.common_name = dns_name;
  options.dns_names = {std::string(dns_name)};
  options.server_auth = true;
  return options;
}

CertificateOptions ClientOptions(std::string_view common_name) {
  CertificateOptions options;
  options.common_name = common_name;
  options.client_auth = true;
  return options;
}

CertificateOptions CaOptions(std::string_view common_name) {
  CertificateOptions options;
  options.common_name = common_name;
  options.is_ca = true;
  return options;
}

CertificateOptions Expired(CertificateOptions options) {
  options.not_before = std::chrono::hours(-48);
  options.not_after = std::chrono::hours(-24);
  return options;
}

CertificateOptions NotYetValid(CertificateOptions options) {
  options.not_before = std::chrono::hours(24);
  options.not_after = std::chrono::hours(48);
  return options;
}

Certificate MakeServerCertificate(std::string_view dns_name) {
  return MakeSelfSignedCertificate(ServerOptions(dns_name));
}

Certificate MakeClientCertificate(std::string_view common_name) {
  return MakeSelfSignedCertificate(ClientOptions(common_name));
}

Certificate MakeCertificateAuthority(std::string_view common_name) {
  return MakeSelfSignedCertificate(CaOptions(common_name));
}

std::string EncryptedPrivateKeyPem(const Certificate& certificate, std::string_view passphrase) {
  Owned<EVP_PKEY> key = ParseKey(certificate.key_pem);
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr) Fail("BIO_new");
  std::string pass(passphrase);
  Check(PEM_write_bio_PKCS8PrivateKey(bio.get(), key.get(), EVP_aes_256_cbc(), pass.data(),
                                      static_cast<int>(pass.size()), nullptr, nullptr),
        "PEM_write_bio_PKCS8PrivateKey");
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(size));
}

PemFiles WritePemFiles(const std::filesystem::path& dir, std::string_view stem,
                       const Certificate& certificate) {
  PemFiles files{.cert = dir / (std::string(stem) + ".crt"),
                 .key = dir / (std::string(stem) + ".key")};
  WriteFile(files.cert, certificate.cert_pem);
  WriteFile(files.key, certificate.key_pem);
  return files;
}

}  // namespace cnpgi::testing_support
