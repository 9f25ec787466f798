#include "file_io.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <system_error>
#include <vector>

#include "absl/time/clock.h"

namespace directory_backup {

namespace fs = std::filesystem;

std::string Cat(std::initializer_list<std::string_view> parts) {
  std::size_t size = 0;
  for (std::string_view p : parts) size += p.size();
  std::string out;
  out.reserve(size);
  for (std::string_view p : parts) out.append(p);
  return out;
}

absl::Status ErrnoStatus(int err, std::string_view what, const fs::path& path) {
  std::string message = Cat({what, " ", path.native(), ": ", std::strerror(err)});
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(message);
    case EEXIST:
      return absl::AlreadyExistsError(message);
    case EACCES:
    case EPERM:
    case EROFS:
      return absl::PermissionDeniedError(message);
    case ENOSPC:
    case EDQUOT:
      return absl::ResourceExhaustedError(message);
    case ENOTDIR:
    case EISDIR:
      return absl::FailedPreconditionError(message);
    case EINTR:
    case EAGAIN:
    case EIO:
      return absl::UnavailableError(message);
    default:
      return absl::InternalError(message);
  }
}

Fd& Fd::operator=(Fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

Fd::~Fd() {
  if (fd_ >= 0) ::close(fd_);
}

int Fd::Close() {
  int rc = ::close(std::exchange(fd_, -1));
  return rc == 0 ? 0 : errno;
}

absl::StatusOr<Fd> Open(const fs::path& path, int flags, mode_t mode) {
  int fd;
  do {
    fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) return ErrnoStatus(errno, "cannot open", path);
  return Fd(fd);
}

absl::Status FsyncDirectory(const fs::path& dir) {
  absl::StatusOr<Fd> fd = Open(dir, O_RDONLY | O_DIRECTORY);
  if (!fd.ok()) return fd.status();
  if (::fsync(fd->get()) != 0) return ErrnoStatus(errno, "cannot fsync directory", dir);
  return absl::OkStatus();
}

ssize_t ReadFull(int fd, char* buffer, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::read(fd, buffer + done, size - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

bool WriteFull(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

absl::Status MakeDirectories(const fs::path& dir) {
  std::vector<fs::path> missing;
  for (fs::path p = dir; !p.empty(); p = p.parent_path()) {
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) {
        return absl::FailedPreconditionError(Cat({"cannot create directory ", dir.native(), ": ",
                                                  p.native(), " exists and is not a directory"}));
      }
      break;
    }
    // ENOTDIR: a file on the way, found (and named) further up.
    if (errno != ENOENT && errno != ENOTDIR) return ErrnoStatus(errno, "cannot stat", p);
    missing.push_back(p);
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0700) != 0 && errno != EEXIST) {
      return ErrnoStatus(errno, "cannot create directory", *it);
    }
    if (absl::Status s = FsyncDirectory(it->parent_path()); !s.ok()) return s;
  }
  return absl::OkStatus();
}

std::string TemporaryName(std::string_view final_name) {
  static std::atomic<unsigned long long> counter{0};
  return Cat({".", final_name, ".tmp.", std::to_string(::getpid()), ".",
              std::to_string(counter.fetch_add(1))});
}

RemoveOnExit::~RemoveOnExit() {
  if (!path_.empty()) (void)RemoveTree(path_);
}

absl::Status RemoveTree(const fs::path& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
  if (ec && ec != std::errc::no_such_file_or_directory) {
    return ErrnoStatus(ec.value(), "cannot remove", path);
  }
  return absl::OkStatus();
}

absl::Status WriteFileDurably(const fs::path& path, std::string_view content, mode_t mode) {
  const fs::path dir = path.parent_path();
  const fs::path temporary = dir / TemporaryName(path.filename().native());
  RemoveOnExit cleanup(temporary);
  absl::StatusOr<Fd> out = Open(temporary, O_WRONLY | O_CREAT | O_EXCL, mode);
  if (!out.ok()) return out.status();
  if (!WriteFull(out->get(), content.data(), content.size())) {
    return ErrnoStatus(errno, "cannot write", temporary);
  }
  if (::fsync(out->get()) != 0) return ErrnoStatus(errno, "cannot fsync", temporary);
  if (int err = out->Close(); err != 0) return ErrnoStatus(err, "cannot close", temporary);
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    return ErrnoStatus(errno, "cannot rename to", path);
  }
  cleanup.Release();
  return FsyncDirectory(dir);
}

absl::StatusOr<std::string> ReadFile(const fs::path& path) {
  absl::StatusOr<Fd> in = Open(path, O_RDONLY);
  if (!in.ok()) return in.status();
  std::string content;
  char buffer[64 * 1024];
  for (;;) {
    ssize_t n = ReadFull(in->get(), buffer, sizeof buffer);
    if (n < 0) return ErrnoStatus(errno, "cannot read", path);
    if (n == 0) break;
    content.append(buffer, static_cast<std::size_t>(n));
  }
  return content;
}

// Sha256 -------------------------------------------------------------------

struct Sha256::State {
  EVP_MD_CTX* ctx = nullptr;
};

Sha256::Sha256() : state_(std::make_unique<State>()) {
  state_->ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(state_->ctx, EVP_sha256(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(state_->ctx); }

void Sha256::Update(const char* data, std::size_t size) {
  EVP_DigestUpdate(state_->ctx, data, size);
}

std::string Sha256::HexDigest() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(state_->ctx, digest, &length);
  EVP_DigestInit_ex(state_->ctx, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex(2 * length, '0');
  for (unsigned int i = 0; i < length; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0xf];
  }
  return hex;
}

// Throttle -----------------------------------------------------------------

Throttle::Throttle(const CopyControl& control) : control_(control), start_(absl::Now()) {}

absl::Status Throttle::CheckCancelled() const {
  if (control_.cancelled && control_.cancelled()) {
    return absl::CancelledError("cancelled: the caller gave up or the plugin is stopping");
  }
  return absl::OkStatus();
}

absl::Status Throttle::Pace(std::int64_t bytes) {
  bytes_ += bytes;
  if (absl::Status s = CheckCancelled(); !s.ok()) return s;
  if (control_.max_rate <= 0) return absl::OkStatus();
  const absl::Time allowed_at =
      start_ + absl::Seconds(static_cast<double>(bytes_) / static_cast<double>(control_.max_rate));
  for (absl::Time now = absl::Now(); now < allowed_at; now = absl::Now()) {
    absl::SleepFor(std::min(allowed_at - now, absl::Milliseconds(100)));
    if (absl::Status s = CheckCancelled(); !s.ok()) return s;
  }
  return absl::OkStatus();
}

// Copies -------------------------------------------------------------------

absl::StatusOr<CopiedFile> CopyToNewFile(int from, const fs::path& from_path, const fs::path& to,
                                         mode_t mode, Throttle* throttle) {
  // A copy is mostly waiting on the disk: a large block keeps system calls
  // few; one buffer per thread avoids an allocation per file.
  constexpr std::size_t kBlock = 1 << 20;
  thread_local std::vector<char> buffer(kBlock);
  absl::StatusOr<Fd> out = Open(to, O_WRONLY | O_CREAT | O_EXCL, mode);
  if (!out.ok()) return out.status();
  Sha256 hash;
  CopiedFile copied;
  for (;;) {
    ssize_t n = ReadFull(from, buffer.data(), buffer.size());
    if (n < 0) return ErrnoStatus(errno, "cannot read", from_path);
    if (n == 0) break;
    if (!WriteFull(out->get(), buffer.data(), static_cast<std::size_t>(n))) {
      return ErrnoStatus(errno, "cannot write", to);
    }
    hash.Update(buffer.data(), static_cast<std::size_t>(n));
    copied.size += n;
    if (throttle != nullptr) {
      if (absl::Status s = throttle->Pace(n); !s.ok()) return s;
    }
  }
  if (::fsync(out->get()) != 0) return ErrnoStatus(errno, "cannot fsync", to);
  if (int err = out->Close(); err != 0) return ErrnoStatus(err, "cannot close", to);
  copied.sha256 = hash.HexDigest();
  return copied;
}

}  // namespace directory_backup
