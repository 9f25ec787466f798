// Verification of the operator's client certificate against the file given
// as --client-cert, done by the SDK instead of gRPC's built-in check so that
// it behaves like the Go helper library (crypto/tls):
//   * every certificate in the file is a trust anchor, self-signed or not
//     (OpenSSL's partial-chain mode): a CA-issued client leaf can be pinned;
//   * the file is re-read on every handshake (cached while its bytes do not
//     change), so a rotated client Secret applies to the very next connection;
//   * the presented certificate must be valid now and usable for client
//     authentication (extendedKeyUsage clientAuth when the extension exists).
#ifndef CNPGI_SRC_TLS_CLIENT_CERTIFICATE_VERIFIER_H_
#define CNPGI_SRC_TLS_CLIENT_CERTIFICATE_VERIFIER_H_

#include <grpcpp/security/tls_certificate_verifier.h>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "cnpgi/logging.h"
#include "options/log_throttle.h"
#include "tls/openssl_util.h"

namespace cnpgi::internal {

// The certificates a client presented, parsed: the leaf, and what it sent
// along as untrusted intermediates.
class PresentedCertificates {
 public:
  // `leaf_pem` is the client certificate, `chain_pem` what it sent along
  // (may include the leaf; may be empty). PermissionDenied when they cannot
  // be parsed.
  static absl::StatusOr<std::shared_ptr<const PresentedCertificates>> Parse(
      std::string_view leaf_pem, std::string_view chain_pem);

  bool SameAs(std::string_view leaf_pem, std::string_view chain_pem) const {
    return leaf_pem == leaf_pem_ && chain_pem == chain_pem_;
  }
  X509* leaf() const { return leaf_.get(); }
  // Read-only once built: shared by concurrent verifications.
  STACK_OF(X509) * untrusted() const { return untrusted_.get(); }

 private:
  PresentedCertificates() = default;
  std::string leaf_pem_, chain_pem_;
  X509Ptr leaf_;
  X509StackPtr untrusted_;
};

// The trust anchors of one version of the client certificate file.
class ClientTrustAnchors {
 public:
  // InvalidArgument when `pem` holds no usable certificate.
  static absl::StatusOr<std::shared_ptr<const ClientTrustAnchors>> FromPem(std::string_view pem);

  // Verifies the certificate a client presented: `leaf_pem` is the client
  // certificate, `chain_pem` what it sent along (may include the leaf; may be
  // empty). PermissionDenied with OpenSSL's reason when it is not trusted.
  absl::Status Verify(std::string_view leaf_pem, std::string_view chain_pem) const;
  // The same, for certificates parsed already.
  absl::Status Verify(const PresentedCertificates& presented) const;

 private:
  explicit ClientTrustAnchors(X509StorePtr store) : store_(std::move(store)) {}
  X509StorePtr store_;  // read-only once built: shared by concurrent handshakes
};

// Reads the client certificate file on demand and keeps the trust anchors of
// its current content.
class ClientCertificateFile {
 public:
  explicit ClientCertificateFile(std::string path) : path_(std::move(path)) {}

  // The anchors for the file as it is now. Errors name the file.
  absl::StatusOr<std::shared_ptr<const ClientTrustAnchors>> Current();
  const std::string& path() const { return path_; }

 private:
  const std::string path_;
  std::mutex mu_;
  std::string cached_pem_;                            // guarded by mu_
  std::shared_ptr<const ClientTrustAnchors> cached_;  // guarded by mu_
};

// The gRPC hook: runs after every TLS handshake on the server, before the
// connection is used. A rejection closes the connection; it is also logged
// through `logger` (warning, throttled) with the reason and the certificate
// the client presented, since the client only sees a dropped connection.
// (gRPC 1.51 does not tell the verifier the client's address.)
class ClientCertificateVerifier final : public grpc::experimental::ExternalCertificateVerifier {
 public:
  explicit ClientCertificateVerifier(std::string client_cert_path, Logger logger = Logger());

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)> callback, grpc::Status* sync_status) override;
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {}

  // The decision, without gRPC types (what Verify() reports).
  absl::Status Check(std::string_view leaf_pem, std::string_view chain_pem);

 private:
  // The client's certificates as parsed: OpenSSL 3.0 takes about 250 µs to
  // parse one (its decoder lookup for the public key), more than the rest of
  // a handshake's verification, and the operator presents the same
  // certificate on every connection. Only the parsing is reused: every
  // handshake is verified, against the trust file as it is then.
  absl::StatusOr<std::shared_ptr<const PresentedCertificates>> Presented(
      std::string_view leaf_pem, std::string_view chain_pem);

  ClientCertificateFile file_;
  std::mutex presented_mu_;
  std::shared_ptr<const PresentedCertificates> last_presented_;  // guarded by presented_mu_
  Logger logger_;
  LogThrottle refusals_;
};

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_TLS_CLIENT_CERTIFICATE_VERIFIER_H_
