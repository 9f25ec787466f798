#include "support/tls_probe.h"

#include <netdb.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace cnpgi::testing_support {
namespace {

struct Free {
  void operator()(BIO* p) const { BIO_free_all(p); }
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(SSL* p) const { SSL_free(p); }
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(addrinfo* p) const { freeaddrinfo(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, Free>;

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Drains OpenSSL's error queue into one readable string.
std::string OpenSslErrors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(code, buf, sizeof(buf));
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "no OpenSSL error recorded" : out;
}

absl::Status Failure(const std::string& step, SSL* ssl, int ret) {
  const int ssl_error = SSL_get_error(ssl, ret);
  const int saved_errno = errno;
  std::string detail = absl::StrCat("SSL_get_error=", ssl_error);
  if (ssl_error == SSL_ERROR_SYSCALL) {
    absl::StrAppend(&detail, saved_errno == 0 ? ", connection closed by the peer"
                                              : absl::StrCat(", ", std::strerror(saved_errno)));
  }
  if (ssl_error == SSL_ERROR_ZERO_RETURN) absl::StrAppend(&detail, ", peer sent close_notify");
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK) {
    absl::StrAppend(&detail, ", server certificate: ", X509_verify_cert_error_string(verify));
  }
  return absl::UnavailableError(
      absl::StrCat(step, " failed: ", detail, " (", OpenSslErrors(), ")"));
}

int ToOpenSsl(TlsVersion version) {
  return version == TlsVersion::k1_2 ? TLS1_2_VERSION : TLS1_3_VERSION;
}

std::vector<Owned<X509>> ParseCertificates(const std::string& pem) {
  std::vector<Owned<X509>> out;
  Owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  while (bio != nullptr) {
    Owned<X509> cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (cert == nullptr) break;
    out.push_back(std::move(cert));
  }
  ERR_clear_error();  // the loop always ends on "no start line"
  return out;
}

absl::StatusOr<Owned<SSL_CTX>> MakeContext(const TlsProbeOptions& options) {
  Owned<SSL_CTX> ctx(SSL_CTX_new(TLS_client_method()));
  if (ctx == nullptr) return absl::InternalError("SSL_CTX_new: " + OpenSslErrors());
  if (SSL_CTX_set_min_proto_version(ctx.get(), ToOpenSsl(options.min_version)) != 1 ||
      SSL_CTX_set_max_proto_version(ctx.get(), ToOpenSsl(options.max_version)) != 1) {
    return absl::InternalError("setting protocol versions: " + OpenSslErrors());
  }
  // No resumption: every probe must go through a full handshake.
  SSL_CTX_set_session_cache_mode(ctx.get(), SSL_SESS_CACHE_OFF);

  if (!options.trusted_server_cert_pem.empty()) {
    X509_STORE* store = SSL_CTX_get_cert_store(ctx.get());
    std::vector<Owned<X509>> roots = ParseCertificates(options.trusted_server_cert_pem);
    if (roots.empty())
      return absl::InvalidArgumentError("trusted_server_cert_pem has no certificate");
    for (const auto& root : roots) {
      if (X509_STORE_add_cert(store, root.get()) != 1) {
        return absl::InternalError("X509_STORE_add_cert: " + OpenSslErrors());
      }
    }
    // Like Go's crypto/tls, which the operator uses: any pinned certificate
    // is a trust anchor, self-signed or not.
    X509_STORE_set_flags(store, X509_V_FLAG_PARTIAL_CHAIN);
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
    if (!options.server_name.empty() &&
        X509_VERIFY_PARAM_set1_host(SSL_CTX_get0_param(ctx.get()), options.server_name.c_str(),
                                    0) != 1) {
      return absl::InternalError("X509_VERIFY_PARAM_set1_host: " + OpenSslErrors());
    }
  }

  if (!options.client_cert_pem.empty() && !options.client_key_pem.empty()) {
    std::vector<Owned<X509>> chain = ParseCertificates(options.client_cert_pem);
    if (chain.empty()) return absl::InvalidArgumentError("client_cert_pem has no certificate");
    Owned<BIO> key_bio(BIO_new_mem_buf(options.client_key_pem.data(),
                                       static_cast<int>(options.client_key_pem.size())));
    Owned<EVP_PKEY> key(PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
    if (key == nullptr) return absl::InvalidArgumentError("client_key_pem: " + OpenSslErrors());
    if (SSL_CTX_use_certificate(ctx.get(), chain.front().get()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx.get(), key.get()) != 1) {
      return absl::InvalidArgumentError("client certificate/key: " + OpenSslErrors());
    }
    for (size_t i = 1; i < chain.size(); ++i) {
      if (SSL_CTX_add1_chain_cert(ctx.get(), chain[i].get()) != 1) {
        return absl::InternalError("SSL_CTX_add1_chain_cert: " + OpenSslErrors());
      }
    }
  }

  if (!options.alpn.empty()) {
    std::string wire(1, static_cast<char>(options.alpn.size()));
    wire += options.alpn;
    // Unlike most OpenSSL calls, 0 means success here.
    if (SSL_CTX_set_alpn_protos(ctx.get(), reinterpret_cast<const unsigned char*>(wire.data()),
                                static_cast<unsigned>(wire.size())) != 0) {
      return absl::InternalError("SSL_CTX_set_alpn_protos: " + OpenSslErrors());
    }
  }
  return ctx;
}

absl::StatusOr<std::unique_ptr<Socket>> Connect(const std::string& host, int port,
                                                std::chrono::milliseconds timeout) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (int rc = getaddrinfo(host.c_str(), service.c_str(), &hints, &found); rc != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("resolving ", host, ":", port, ": ", gai_strerror(rc)));
  }
  Owned<addrinfo> addresses(found);
  auto sock = std::make_unique<Socket>(
      socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol));
  if (sock->get() < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  // On Linux SO_SNDTIMEO also bounds connect(2), so nothing here can block
  // for longer than the timeout.
  setsockopt(sock->get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(sock->get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (connect(sock->get(), found->ai_addr, found->ai_addrlen) != 0) {
    return absl::UnavailableError(
        absl::StrCat("connecting to ", host, ":", port, ": ", std::strerror(errno)));
  }
  return sock;
}

}  // namespace

absl::StatusOr<TlsProbeResult> ProbeTls(const std::string& host, int port,
                                        const TlsProbeOptions& options) {
  // A server that closes the connection while we write must give us EPIPE,
  // not kill the test binary.
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { signal(SIGPIPE, SIG_IGN); });
  ERR_clear_error();

  absl::StatusOr<Owned<SSL_CTX>> ctx = MakeContext(options);
  if (!ctx.ok()) return ctx.status();
  absl::StatusOr<std::unique_ptr<Socket>> sock = Connect(host, port, options.timeout);
  if (!sock.ok()) return sock.status();

  Owned<SSL> ssl(SSL_new(ctx->get()));
  if (ssl == nullptr) return absl::InternalError("SSL_new: " + OpenSslErrors());
  if (SSL_set_fd(ssl.get(), (*sock)->get()) != 1) {
    return absl::InternalError("SSL_set_fd: " + OpenSslErrors());
  }
  if (!options.server_name.empty())
    SSL_set_tlsext_host_name(ssl.get(), options.server_name.c_str());

  if (int ret = SSL_connect(ssl.get()); ret != 1) {
    return Failure("TLS handshake", ssl.get(), ret);
  }
  TlsProbeResult result;
  result.version = SSL_get_version(ssl.get());
  const unsigned char* alpn = nullptr;
  unsigned alpn_len = 0;
  SSL_get0_alpn_selected(ssl.get(), &alpn, &alpn_len);
  if (alpn != nullptr) result.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  // On a client, OpenSSL returns the names the server sent.
  if (const STACK_OF(X509_NAME)* names = SSL_get_client_CA_list(ssl.get())) {
    result.acceptable_ca_names = sk_X509_NAME_num(names);
  }

  if (options.exchange_http2_preface) {
    // Client connection preface followed by an empty SETTINGS frame
    // (length 0, type 0x4, no flags, stream 0).
    static constexpr char kPreface[] =
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        "\x00\x00\x00\x04\x00\x00\x00\x00\x00";
    const int preface_len = static_cast<int>(sizeof(kPreface) - 1);
    if (int ret = SSL_write(ssl.get(), kPreface, preface_len); ret != preface_len) {
      return Failure("sending the HTTP/2 preface", ssl.get(), ret);
    }
    unsigned char header[9];
    int have = 0;
    while (have < static_cast<int>(sizeof(header))) {
      int ret = SSL_read(ssl.get(), header + have, static_cast<int>(sizeof(header)) - have);
      if (ret <= 0) return Failure("reading the server's first HTTP/2 frame", ssl.get(), ret);
      have += ret;
    }
    if (header[3] != 0x04) {
      return absl::UnavailableError(
          absl::StrCat("the server's first HTTP/2 frame has type ", header[3], ", not SETTINGS"));
    }
    result.http2_settings_received = true;
  }
  SSL_shutdown(ssl.get());
  return result;
}

}  // namespace cnpgi::testing_support
