#include "tls/mutual_tls.h"

#include <grpc/grpc_security_constants.h>
#include <grpcpp/security/server_credentials.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_credentials_options.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tls/client_certificate_verifier.h"
#include "tls/openssl_util.h"
#include "tls/tls13_only.h"
#include "tls/tls_files.h"

namespace cnpgi::internal {
namespace {

absl::Status Prefixed(const absl::Status& status, const std::string& prefix) {
  return absl::Status(status.code(), absl::StrCat(prefix, " ", status.message()));
}

// The labels of `blocks`, for messages such as "contains no certificate (its
// PEM blocks: PRIVATE KEY)".
std::string Labels(const std::vector<PemBlock>& blocks) {
  std::vector<std::string> labels;
  for (const PemBlock& block : blocks) labels.push_back(block.label);
  return absl::StrJoin(labels, ", ");
}

// Why `cert` cannot be used right now, if it cannot.
std::optional<std::string> ValidityProblem(const X509* cert) {
  // X509_cmp_current_time: -1 when the time is in the past, 1 in the future,
  // 0 when it cannot be compared.
  const int not_after = X509_cmp_current_time(X509_get0_notAfter(cert));
  const int not_before = X509_cmp_current_time(X509_get0_notBefore(cert));
  if (not_after == 0 || not_before == 0) {
    ERR_clear_error();
    return "has a validity period that cannot be read";
  }
  if (not_after < 0) {
    return absl::StrCat("expired on ", FormatAsn1Time(X509_get0_notAfter(cert)));
  }
  if (not_before > 0) {
    return absl::StrCat("is not valid before ", FormatAsn1Time(X509_get0_notBefore(cert)));
  }
  return std::nullopt;
}

bool HasDnsSubjectAltName(X509* cert) {
  auto* names =
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (names == nullptr) return false;
  bool found = false;
  for (int i = 0; i < sk_GENERAL_NAME_num(names) && !found; ++i) {
    found = sk_GENERAL_NAME_value(names, i)->type == GEN_DNS;
  }
  GENERAL_NAMES_free(names);
  return found;
}

// True unless the certificate restricts its extended key usage to a set
// without `usage` (Go's crypto/tls accepts anyExtendedKeyUsage too).
bool ExtendedKeyUsageAllows(X509* cert, uint32_t usage) {
  if ((X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) == 0) return true;
  const uint32_t allowed = X509_get_extended_key_usage(cert);
  return (allowed & (usage | XKU_ANYEKU)) != 0;
}

bool IsCa(X509* cert) { return (X509_get_extension_flags(cert) & EXFLAG_CA) != 0; }

// A file's bytes and its PEM blocks, read once so that both describe the
// same version of a file that may be replaced at any time.
struct PemFile {
  std::string content;
  std::vector<PemBlock> blocks;
};

absl::StatusOr<PemFile> ReadPem(TlsFile role, const std::string& path) {
  const std::string name = DescribeTlsFile(role, path);
  if (path.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(name, " is not set: the path is empty"));
  }
  absl::StatusOr<std::string> content = ReadSmallFile(path);
  if (!content.ok()) return Prefixed(content.status(), name);
  if (content->empty()) return absl::InvalidArgumentError(absl::StrCat(name, " is empty"));
  absl::StatusOr<std::vector<PemBlock>> blocks = ParsePemBlocks(*content);
  if (!blocks.ok()) return Prefixed(blocks.status(), name);
  return PemFile{.content = *std::move(content), .blocks = *std::move(blocks)};
}

absl::StatusOr<std::vector<X509Ptr>> ReadCertificates(TlsFile role, const std::string& path) {
  absl::StatusOr<PemFile> file = ReadPem(role, path);
  if (!file.ok()) return file.status();
  const std::string name = DescribeTlsFile(role, path);
  absl::StatusOr<std::vector<X509Ptr>> certs = DecodeCertificates(file->blocks);
  if (!certs.ok()) return Prefixed(certs.status(), name);
  if (certs->empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, " contains no certificate (its PEM blocks: ", Labels(file->blocks), ")"));
  }
  return certs;
}

// Never prompt on a terminal for a pass phrase: encrypted keys are refused
// before this is reached, and this is the safety net.
int RefusePassphrase(char*, int, int, void*) { return -1; }

absl::StatusOr<EvpPkeyPtr> ReadPrivateKey(const std::string& path) {
  absl::StatusOr<PemFile> file = ReadPem(TlsFile::kServerKey, path);
  if (!file.ok()) return file.status();
  const std::string name = DescribeTlsFile(TlsFile::kServerKey, path);
  bool has_key = false;
  for (const PemBlock& block : file->blocks) {
    if (block.label == "ENCRYPTED PRIVATE KEY" ||
        (block.label.ends_with("PRIVATE KEY") &&
         block.headers.find("ENCRYPTED") != std::string::npos)) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, " holds an encrypted private key; the server needs it unencrypted"));
    }
    has_key = has_key || block.label.ends_with("PRIVATE KEY");
  }
  if (!has_key) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, " contains no private key (its PEM blocks: ", Labels(file->blocks), ")"));
  }
  ERR_clear_error();
  BioPtr bio(BIO_new_mem_buf(file->content.data(), static_cast<int>(file->content.size())));
  EvpPkeyPtr key(bio == nullptr
                     ? nullptr
                     : PEM_read_bio_PrivateKey(bio.get(), nullptr, RefusePassphrase, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " has a private key that cannot be read (", DrainOpenSslErrors(), ")"));
  }
  return key;
}

absl::Status ValidateServerCertificate(const MutualTlsFiles& files,
                                       const std::vector<X509Ptr>& chain) {
  const std::string name = DescribeTlsFile(TlsFile::kServerCert, files.server_cert);
  for (size_t i = 0; i < chain.size(); ++i) {
    if (std::optional<std::string> problem = ValidityProblem(chain[i].get())) {
      return absl::FailedPreconditionError(absl::StrCat(
          name, ": certificate \"", SubjectName(chain[i].get()), "\"",
          chain.size() > 1 ? absl::StrCat(" (number ", i + 1, " in the file)") : "", " ", *problem,
          "; the operator refuses a server certificate outside its validity period"));
    }
  }
  X509* leaf = chain.front().get();
  if (!HasDnsSubjectAltName(leaf)) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": certificate \"", SubjectName(leaf),
        "\" has no DNS name in its subjectAltName; the operator checks the plugin's Service "
        "name (or its cnpg.io/pluginServerName annotation) against DNS names only"));
  }
  if (!ExtendedKeyUsageAllows(leaf, XKU_SSL_SERVER)) {
    return absl::InvalidArgumentError(absl::StrCat(
        name, ": certificate \"", SubjectName(leaf),
        "\" restricts its extended key usage to a set without serverAuth; the operator "
        "refuses it for a server"));
  }
  return absl::OkStatus();
}

absl::Status ValidateClientCertificates(const MutualTlsFiles& files,
                                        const std::vector<X509Ptr>& certs) {
  std::vector<std::string> problems;
  // Only a matter of time (FailedPrecondition) unless some certificate can
  // never be used at all (InvalidArgument).
  absl::StatusCode code = absl::StatusCode::kFailedPrecondition;
  for (const X509Ptr& cert : certs) {
    std::optional<std::string> problem = ValidityProblem(cert.get());
    if (!problem && !IsCa(cert.get()) && !ExtendedKeyUsageAllows(cert.get(), XKU_SSL_CLIENT)) {
      problem = "restricts its extended key usage to a set without clientAuth";
      code = absl::StatusCode::kInvalidArgument;
    }
    if (!problem) return absl::OkStatus();  // one usable anchor is enough
    problems.push_back(absl::StrCat("certificate \"", SubjectName(cert.get()), "\" ", *problem));
  }
  return absl::Status(code,
                      absl::StrCat(DescribeTlsFile(TlsFile::kClientCert, files.client_cert),
                                   " cannot accept any client: ", absl::StrJoin(problems, "; ")));
}

}  // namespace

absl::Status ValidateMutualTlsFiles(const MutualTlsFiles& files) {
  absl::StatusOr<std::vector<X509Ptr>> server_chain =
      ReadCertificates(TlsFile::kServerCert, files.server_cert);
  if (!server_chain.ok()) return server_chain.status();
  absl::StatusOr<EvpPkeyPtr> key = ReadPrivateKey(files.server_key);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::vector<X509Ptr>> client_certs =
      ReadCertificates(TlsFile::kClientCert, files.client_cert);
  if (!client_certs.ok()) return client_certs.status();

  if (EVP_PKEY_eq(X509_get0_pubkey(server_chain->front().get()), key->get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat(DescribeTlsFile(TlsFile::kServerKey, files.server_key),
                     " does not match the certificate \"", SubjectName(server_chain->front().get()),
                     "\" of the ", DescribeTlsFile(TlsFile::kServerCert, files.server_cert)));
  }
  if (absl::Status status = ValidateServerCertificate(files, *server_chain); !status.ok()) {
    return status;
  }
  return ValidateClientCertificates(files, *client_certs);
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeMutualTlsServerCredentials(
    const MutualTlsFiles& files, absl::Duration reload_interval, Logger logger) {
  if (reload_interval <= absl::ZeroDuration() || reload_interval == absl::InfiniteDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("the certificate reload interval must be positive and finite, not ",
                     absl::FormatDuration(reload_interval)));
  }
  if (absl::Status status = ValidateMutualTlsFiles(files); !status.ok()) return status;
  if (absl::Status status = EnforceTls13Only(); !status.ok()) return status;

  // gRPC's file watcher counts whole seconds.
  const int64_t seconds =
      std::clamp<int64_t>(absl::ToInt64Seconds(absl::Ceil(reload_interval, absl::Seconds(1))), 1,
                          std::numeric_limits<unsigned int>::max());
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      files.server_key, files.server_cert, static_cast<unsigned int>(seconds));
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_identity_key_cert_pairs();
  // gRPC still requires a certificate and checks the client's proof of
  // possession of its key (CertificateVerify); the trust decision is ours,
  // because gRPC's own check would need the client's issuer in the file
  // (no partial chains) and reads the file only on its timer.
  options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
  options.set_certificate_verifier(
      grpc::experimental::ExternalCertificateVerifier::Create<ClientCertificateVerifier>(
          files.client_cert, std::move(logger)));
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::experimental::TlsServerCredentials(options);
  if (credentials == nullptr) {
    return absl::InternalError("gRPC refused to create the mutual TLS server credentials");
  }
  return credentials;
}

}  // namespace cnpgi::internal
