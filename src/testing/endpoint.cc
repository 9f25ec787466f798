// Where the client connects: TlsCredentials and Endpoint.
#include "cnpgi/testing/plugin_client.h"

#include <errno.h>
#include <google/protobuf/empty.pb.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/str_join.h"
#include "cnpgi/json.h"
#include "testing/internal.h"

namespace cnpgi::testing {

// TlsCredentials and Endpoint -----------------------------------------------

namespace {

absl::StatusOr<std::string> ReadPemFile(const std::string& path, const char* what,
                                        const char* marker, const char* expected) {
  if (path.empty()) {
    return absl::InvalidArgumentError(internal::Cat("no ", what, " file was given"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::InvalidArgumentError(
        internal::Cat(what, " file ", path, ": cannot be read (", strerror(errno), ")"));
  }
  std::ostringstream content;
  content << in.rdbuf();
  std::string pem = content.str();
  if (pem.find(marker) == std::string::npos) {
    return absl::InvalidArgumentError(internal::Cat(what, " file ", path, ": no ", expected,
                                                    " in it (expected PEM with a \"", marker,
                                                    "\" line)"));
  }
  return pem;
}

}  // namespace

absl::StatusOr<TlsCredentials> TlsCredentials::FromFiles(const std::string& client_cert_file,
                                                         const std::string& client_key_file,
                                                         const std::string& server_cert_file,
                                                         std::string server_name) {
  TlsCredentials out;
  auto cert = ReadPemFile(client_cert_file, "client certificate", "-----BEGIN CERTIFICATE-----",
                          "certificate");
  if (!cert.ok()) return cert.status();
  auto key = ReadPemFile(client_key_file, "client key", "PRIVATE KEY-----", "private key");
  if (!key.ok()) return key.status();
  auto server = ReadPemFile(server_cert_file, "server certificate", "-----BEGIN CERTIFICATE-----",
                            "certificate");
  if (!server.ok()) return server.status();
  out.client_cert_pem = *std::move(cert);
  out.client_key_pem = *std::move(key);
  out.server_cert_pem = *std::move(server);
  out.server_name = std::move(server_name);
  return out;
}

Endpoint Endpoint::Unix(std::string socket_path) {
  Endpoint e;
  e.transport = Transport::kUnix;
  e.socket_path = std::move(socket_path);
  return e;
}

Endpoint Endpoint::Tcp(std::string address, TlsCredentials tls) {
  Endpoint e;
  e.transport = Transport::kTcp;
  e.address = std::move(address);
  e.tls = std::move(tls);
  return e;
}

namespace internal {

std::string HostOf(const std::string& address) {
  if (!address.empty() && address.front() == '[') {
    const auto end = address.find(']');
    return end == std::string::npos ? address : address.substr(1, end - 1);
  }
  const auto colon = address.rfind(':');
  return colon == std::string::npos ? address : address.substr(0, colon);
}

bool IsIpLiteral(const std::string& host) {
  if (host.find(':') != std::string::npos) return true;  // IPv6
  if (host.empty()) return false;
  for (char c : host) {
    if (!(c == '.' || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

}  // namespace internal

std::string Endpoint::ServerName() const {
  if (!tls.server_name.empty()) return tls.server_name;
  const std::string host = internal::HostOf(address);
  if (internal::IsIpLiteral(host)) return host;
  return host.substr(0, host.find('.'));
}

std::string Endpoint::Describe() const {
  if (transport == Transport::kUnix) return internal::Cat("unix:", socket_path);
  return internal::Cat(address, " (mTLS, server name ", ServerName(), ")");
}

}  // namespace cnpgi::testing
