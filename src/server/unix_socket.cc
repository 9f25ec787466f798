#include "server/unix_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
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

// "user postgres (uid 26, gid 26)", or "uid 65532, gid 65532" where the
// user has no name (container images without /etc/passwd): who must be
// able to write the plugin directory.
std::string EffectiveUser() {
  const uid_t uid = geteuid();
  const gid_t gid = getegid();
  std::string ids = absl::StrCat("uid ", uid, ", gid ", gid);
  passwd entry{};
  passwd* found = nullptr;
  char buffer[1024];
  if (getpwuid_r(uid, &entry, buffer, sizeof(buffer), &found) == 0 && found != nullptr) {
    return absl::StrCat("user ", found->pw_name, " (", ids, ")");
  }
  return ids;
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
  // bind() would fail later with a bare EACCES or EROFS that names neither
  // the directory nor who tried: a volume mounted for another user, or the
  // read-only root file system, is the usual cause in a pod.
  if (faccessat(AT_FDCWD, dir.c_str(), W_OK | X_OK, AT_EACCESS) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "plugin path ", dir, " is not writable by ", EffectiveUser(), ": ", Errno(),
        " (the Unix socket is created there: in Kubernetes, mount the shared `plugins` emptyDir "
        "volume there, writable by the plugin's user, e.g. through the pod's fsGroup)"));
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
