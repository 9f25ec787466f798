// Not part of the API. The Unix socket a sidecar plugin listens on.
#ifndef CNPGI_SRC_SERVER_UNIX_SOCKET_H_
#define CNPGI_SRC_SERVER_UNIX_SOCKET_H_

#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cnpgi::internal {

// Returns `<directory>/<name>`, ready to bind: the directory exists, the path
// fits in a socket address, and a stale socket left by a previous run is
// removed. Refuses, naming the path, a missing directory, a path that is not
// a socket (it is never deleted), and a socket another live server is
// answering on (two plugins of the same name would steal each other's
// calls).
absl::StatusOr<std::string> PrepareUnixSocketPath(std::string_view directory,
                                                  std::string_view name);

// Removes the socket file at `path` if it is still a socket.
void RemoveUnixSocket(const std::string& path);

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_SERVER_UNIX_SOCKET_H_
