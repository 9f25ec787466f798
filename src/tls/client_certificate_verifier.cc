#include "tls/client_certificate_verifier.h"

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "tls/tls_files.h"

namespace cnpgi::internal {
namespace {

absl::Status Prefixed(const absl::Status& status, const std::string& prefix) {
  return absl::Status(status.code(), absl::StrCat(prefix, " ", status.message()));
}

}  // namespace

absl::StatusOr<std::shared_ptr<const ClientTrustAnchors>> ClientTrustAnchors::FromPem(
    std::string_view pem) {
  absl::StatusOr<std::vector<X509Ptr>> certs = ParseCertificates(pem);
  if (!certs.ok()) return certs.status();
  if (certs->empty()) return absl::InvalidArgumentError("contains no certificate");
  X509StorePtr store(X509_STORE_new());
  if (store == nullptr) return absl::ResourceExhaustedError(DrainOpenSslErrors());
  for (const X509Ptr& cert : *certs) {
    if (X509_STORE_add_cert(store.get(), cert.get()) != 1) {
      // A file listing the same certificate twice is harmless.
      if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_CERT_ALREADY_IN_HASH_TABLE) {
        ERR_clear_error();
        continue;
      }
      return absl::InternalError(absl::StrCat("cannot use certificate \"", SubjectName(cert.get()),
                                              "\": ", DrainOpenSslErrors()));
    }
  }
  // Partial chains: any certificate of the file ends a chain, as in Go,
  // where a pinned leaf needs no issuer. Purpose: the client's leaf must
  // allow client authentication (extendedKeyUsage), as Go checks.
  if (X509_STORE_set_flags(store.get(), X509_V_FLAG_PARTIAL_CHAIN) != 1 ||
      X509_STORE_set_purpose(store.get(), X509_PURPOSE_SSL_CLIENT) != 1) {
    return absl::InternalError(DrainOpenSslErrors());
  }
  return std::shared_ptr<const ClientTrustAnchors>(new ClientTrustAnchors(std::move(store)));
}

absl::StatusOr<std::shared_ptr<const PresentedCertificates>> PresentedCertificates::Parse(
    std::string_view leaf_pem, std::string_view chain_pem) {
  if (leaf_pem.empty()) {
    return absl::PermissionDeniedError("the client presented no certificate");
  }
  absl::StatusOr<std::vector<X509Ptr>> leaf = ParseCertificates(leaf_pem);
  if (!leaf.ok() || leaf->empty()) {
    return absl::PermissionDeniedError("the client's certificate cannot be parsed");
  }
  std::shared_ptr<PresentedCertificates> parsed(new PresentedCertificates());
  parsed->leaf_pem_ = std::string(leaf_pem);
  parsed->chain_pem_ = std::string(chain_pem);
  parsed->leaf_ = std::move(leaf->front());
  parsed->untrusted_.reset(sk_X509_new_null());
  if (parsed->untrusted_ == nullptr) return absl::ResourceExhaustedError(DrainOpenSslErrors());
  if (!chain_pem.empty()) {
    absl::StatusOr<std::vector<X509Ptr>> chain = ParseCertificates(chain_pem);
    if (!chain.ok()) {
      return absl::PermissionDeniedError("the client's certificate chain cannot be parsed");
    }
    for (X509Ptr& cert : *chain) {
      if (sk_X509_push(parsed->untrusted_.get(), cert.get()) == 0) {
        return absl::ResourceExhaustedError(DrainOpenSslErrors());
      }
      cert.release();  // now owned by the stack
    }
  }
  return std::shared_ptr<const PresentedCertificates>(std::move(parsed));
}

absl::Status ClientTrustAnchors::Verify(std::string_view leaf_pem,
                                        std::string_view chain_pem) const {
  absl::StatusOr<std::shared_ptr<const PresentedCertificates>> presented =
      PresentedCertificates::Parse(leaf_pem, chain_pem);
  if (!presented.ok()) return presented.status();
  return Verify(**presented);
}

absl::Status ClientTrustAnchors::Verify(const PresentedCertificates& presented) const {
  X509* client = presented.leaf();
  STACK_OF(X509)* untrusted = presented.untrusted();
  X509StoreCtxPtr ctx(X509_STORE_CTX_new());
  if (ctx == nullptr || X509_STORE_CTX_init(ctx.get(), store_.get(), client, untrusted) != 1) {
    return absl::ResourceExhaustedError(DrainOpenSslErrors());
  }
  if (X509_verify_cert(ctx.get()) == 1) {
    ERR_clear_error();
    return absl::OkStatus();
  }
  const int error = X509_STORE_CTX_get_error(ctx.get());
  const int depth = X509_STORE_CTX_get_error_depth(ctx.get());
  std::string where;
  if (depth > 0) {
    const X509* at = X509_STORE_CTX_get_current_cert(ctx.get());
    where = absl::StrCat(" (certificate ", depth, " of the chain",
                         at != nullptr ? absl::StrCat(", \"", SubjectName(at), "\"") : "", ")");
  }
  ERR_clear_error();
  return absl::PermissionDeniedError(
      absl::StrCat("client certificate \"", SubjectName(client),
                   "\" rejected: ", X509_verify_cert_error_string(error), where));
}

absl::StatusOr<std::shared_ptr<const ClientTrustAnchors>> ClientCertificateFile::Current() {
  absl::StatusOr<std::string> pem = ReadSmallFile(path_);
  if (!pem.ok()) return Prefixed(pem.status(), DescribeTlsFile(TlsFile::kClientCert, path_));
  std::lock_guard<std::mutex> lock(mu_);
  if (cached_ != nullptr && *pem == cached_pem_) return cached_;
  absl::StatusOr<std::shared_ptr<const ClientTrustAnchors>> anchors =
      ClientTrustAnchors::FromPem(*pem);
  if (!anchors.ok()) {
    return Prefixed(anchors.status(), DescribeTlsFile(TlsFile::kClientCert, path_));
  }
  cached_pem_ = *std::move(pem);
  cached_ = *std::move(anchors);
  return cached_;
}

ClientCertificateVerifier::ClientCertificateVerifier(std::string client_cert_path, Logger logger)
    : file_(std::move(client_cert_path)), logger_(std::move(logger)) {}

absl::Status ClientCertificateVerifier::Check(std::string_view leaf_pem,
                                              std::string_view chain_pem) {
  absl::StatusOr<std::shared_ptr<const ClientTrustAnchors>> anchors = file_.Current();
  // Fail closed: without a readable trust file no client is trusted, exactly
  // as the Go helper library, which re-reads the file on every handshake.
  if (!anchors.ok()) return anchors.status();
  absl::StatusOr<std::shared_ptr<const PresentedCertificates>> presented =
      Presented(leaf_pem, chain_pem);
  if (!presented.ok()) return presented.status();
  return (*anchors)->Verify(**presented);
}

absl::StatusOr<std::shared_ptr<const PresentedCertificates>> ClientCertificateVerifier::Presented(
    std::string_view leaf_pem, std::string_view chain_pem) {
  {
    std::lock_guard<std::mutex> lock(presented_mu_);
    if (last_presented_ != nullptr && last_presented_->SameAs(leaf_pem, chain_pem)) {
      return last_presented_;
    }
  }
  absl::StatusOr<std::shared_ptr<const PresentedCertificates>> parsed =
      PresentedCertificates::Parse(leaf_pem, chain_pem);
  if (!parsed.ok()) return parsed.status();
  std::lock_guard<std::mutex> lock(presented_mu_);
  last_presented_ = *parsed;
  return parsed;
}

bool ClientCertificateVerifier::Verify(
    grpc::experimental::TlsCustomVerificationCheckRequest* request,
    std::function<void(grpc::Status)> /*callback*/, grpc::Status* sync_status) {
  const grpc::string_ref leaf = request->peer_cert();
  const grpc::string_ref chain = request->peer_cert_full_chain();
  absl::Status status = Check(std::string_view(leaf.data(), leaf.size()),
                              std::string_view(chain.data(), chain.size()));
  if (status.ok()) {
    *sync_status = grpc::Status::OK;
    return true;  // decided synchronously
  }
  if (logger_.ShouldLog(spdlog::level::warn)) {
    const LogThrottle::Decision decision = refusals_.Admit({this, 0});
    if (decision.write) {
      std::string presented = "none";
      if (absl::StatusOr<std::vector<X509Ptr>> certs =
              ParseCertificates(std::string_view(leaf.data(), leaf.size()));
          certs.ok() && !certs->empty()) {
        presented = SubjectName(certs->front().get());
      }
      constexpr std::string_view kMessage =
          "mutual TLS: client certificate refused, connection closed";
      if (decision.suppressed == 0) {
        logger_.Warn(kMessage, {{"reason", status.message()}, {"peer_certificate", presented}});
      } else {
        logger_.Warn(kMessage, {{"reason", status.message()},
                                {"peer_certificate", presented},
                                {"suppressed", decision.suppressed}});
      }
    }
  }
  *sync_status = grpc::Status(grpc::StatusCode::UNAUTHENTICATED, std::string(status.message()));
  return true;  // decided synchronously
}

}  // namespace cnpgi::internal
