// How error messages name the three files of a mutual-TLS server, with the
// flag that sets each, so that a user reading a log line knows which file to
// look at and where it came from.
#ifndef CNPGI_SRC_TLS_TLS_FILES_H_
#define CNPGI_SRC_TLS_TLS_FILES_H_

#include <string>

#include "absl/strings/str_cat.h"

namespace cnpgi::internal {

enum class TlsFile { kServerCert, kServerKey, kClientCert };

// e.g. `server certificate file "/certs/tls.crt" (--server-cert)`.
inline std::string DescribeTlsFile(TlsFile file, const std::string& path) {
  switch (file) {
    case TlsFile::kServerCert:
      return absl::StrCat("server certificate file \"", path, "\" (--server-cert)");
    case TlsFile::kServerKey:
      return absl::StrCat("server private key file \"", path, "\" (--server-key)");
    case TlsFile::kClientCert:
      return absl::StrCat("client certificate file \"", path, "\" (--client-cert)");
  }
  return absl::StrCat("file \"", path, "\"");
}

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_TLS_TLS_FILES_H_
