#include "server/unix_socket.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"

namespace cnpgi::internal {
namespace {

std::string Errno() { return strerror(errno); }

// True when something accepts connections on the socket at `path`.
bool SomeoneListens(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  memcpy(address.sun_path, path.c_str(), path.size() + 1);
  const bool connected =
      connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return connected;
}

}  // namespace

absl::StatusOr<std::string> PrepareUnixSocketPath(std::string_view directory,
                                                  std::string_view name) {
  if (directory.empty()) return absl::InvalidArgumentError("the plugin path is empty");
  struct stat info {};
  const std::string dir(directory);
  if (stat(dir.c_str(), &info) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("plugin path ", dir, ": ", Errno(),
                     " (the directory of the Unix socket must exist: in Kubernetes, mount the "
                     "shared `plugins` emptyDir volume there)"));
  }
  if (!S_ISDIR(info.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat("plugin path ", dir, " is not a directory"));
  }
  std::string path = dir;
  if (path.back() != '/') path += '/';
  path += name;
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    return absl::InvalidArgumentError(absl::StrCat("socket path ", path, " is ", path.size(),
                                                   " bytes long; Unix sockets allow at most ",
                                                   sizeof(sockaddr_un::sun_path) - 1));
  }
  if (lstat(path.c_str(), &info) == 0) {
    if (!S_ISSOCK(info.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " exists and is not a socket; refusing to replace it"));
    }
    if (SomeoneListens(path)) {
      return absl::FailedPreconditionError(
          absl::StrCat("another server is already listening on ", path,
                       "; two plugins with the same name cannot share a plugin directory"));
    }
    if (unlink(path.c_str()) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot remove the stale socket ", path, ": ", Errno()));
    }
  } else if (errno != ENOENT) {
    return absl::FailedPreconditionError(absl::StrCat("cannot inspect ", path, ": ", Errno()));
  }
  return path;
}

void RemoveUnixSocket(const std::string& path) {
  struct stat info {};
  if (lstat(path.c_str(), &info) == 0 && S_ISSOCK(info.st_mode)) unlink(path.c_str());
}

}  // namespace cnpgi::internal
