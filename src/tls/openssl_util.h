// OpenSSL plumbing shared by the TLS component: owning pointers for every
// OpenSSL object it touches, file reading and PEM parsing that report errors
// as absl::Status, and readable names and dates for certificates.
#ifndef CNPGI_SRC_TLS_OPENSSL_UTIL_H_
#define CNPGI_SRC_TLS_OPENSSL_UTIL_H_

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cnpgi::internal {

struct OpenSslFree {
  void operator()(BIO* p) const { BIO_free_all(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_STORE* p) const { X509_STORE_free(p); }
  void operator()(X509_STORE_CTX* p) const { X509_STORE_CTX_free(p); }
  void operator()(STACK_OF(X509) * p) const { sk_X509_pop_free(p, X509_free); }
};
using BioPtr = std::unique_ptr<BIO, OpenSslFree>;
using EvpPkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslFree>;
using X509Ptr = std::unique_ptr<X509, OpenSslFree>;
using X509StorePtr = std::unique_ptr<X509_STORE, OpenSslFree>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, OpenSslFree>;
using X509StackPtr = std::unique_ptr<STACK_OF(X509), OpenSslFree>;

// Empties OpenSSL's thread-local error queue into "reason; reason"; an empty
// queue gives "unknown OpenSSL error".
std::string DrainOpenSslErrors();

// Reads a whole file (following symlinks, as Kubernetes Secret volumes need).
// NotFound / PermissionDenied / FailedPrecondition carry strerror's text;
// files above `max_size` are refused rather than read into memory.
absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max_size = 1 << 20);

// One "-----BEGIN <label>-----" block.
struct PemBlock {
  std::string label;    // "CERTIFICATE", "PRIVATE KEY", ...
  std::string headers;  // RFC 1421 headers, e.g. "Proc-Type: 4,ENCRYPTED"
  std::string der;
};

// Every PEM block of `pem`, in order. InvalidArgument when there is no block
// at all ("no -----BEGIN line") or one is malformed (bad base64, no END line).
absl::StatusOr<std::vector<PemBlock>> ParsePemBlocks(std::string_view pem);

// Decodes the CERTIFICATE blocks among `blocks`; other labels are skipped.
// InvalidArgument naming the block's position when one is not a certificate.
absl::StatusOr<std::vector<X509Ptr>> DecodeCertificates(const std::vector<PemBlock>& blocks);

// Parses every certificate of a PEM text (ParsePemBlocks + DecodeCertificates).
absl::StatusOr<std::vector<X509Ptr>> ParseCertificates(std::string_view pem);

// "CN=foo,O=bar" (RFC 2253 order).
std::string SubjectName(const X509* cert);
// "2025-01-31T12:00:00Z".
std::string FormatAsn1Time(const ASN1_TIME* time);

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_TLS_OPENSSL_UTIL_H_
