#include "file_io.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <optional>
#include <system_error>
#include <thread>
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

absl::Status FsyncFile(const fs::path& path) {
  absl::StatusOr<Fd> fd = Open(path, O_RDONLY);
  if (!fd.ok()) return fd.status();
  if (::fsync(fd->get()) != 0) return ErrnoStatus(errno, "cannot fsync", path);
  return absl::OkStatus();
}

namespace {

constexpr std::size_t kBlock = 1 << 20;

// Writes the blocks the reading thread hands over, so that reading and
// hashing block n+1 overlap writing block n: a copy through one thread waits
// for each in turn (pg_basebackup has a server process reading and a client
// writing). Two buffers: the reader fills one while the other is written.
class PipelinedWriter {
 public:
  explicit PipelinedWriter(int fd) : fd_(fd) {
    for (std::vector<char>& b : buffers_) b.resize(kBlock);
    thread_ = std::thread([this] { Run(); });
  }
  ~PipelinedWriter() { Finish(); }
  PipelinedWriter(const PipelinedWriter&) = delete;
  PipelinedWriter& operator=(const PipelinedWriter&) = delete;

  // A free buffer of kBlock bytes, or nullptr once a write failed.
  char* Acquire() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return pending_ < kBuffers || error_ != 0; });
    if (error_ != 0) return nullptr;
    return buffers_[(head_ + pending_) % kBuffers].data();
  }
  // The buffer Acquire() gave holds `size` bytes to write.
  void Submit(std::size_t size) {
    std::lock_guard lock(mu_);
    sizes_[(head_ + pending_) % kBuffers] = size;
    ++pending_;
    cv_.notify_all();
  }
  // Waits for every write; the errno of the first failed one, 0 if none.
  int Finish() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
      cv_.notify_all();
    }
    if (thread_.joinable()) thread_.join();
    return error_;
  }

 private:
  static constexpr std::size_t kBuffers = 2;

  void Run() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return pending_ > 0 || done_; });
      if (pending_ == 0) return;  // done, and everything written
      const std::size_t i = head_;
      const bool failed = error_ != 0;
      lock.unlock();
      const int err = failed || WriteFull(fd_, buffers_[i].data(), sizes_[i]) ? 0 : errno;
      lock.lock();
      if (err != 0 && error_ == 0) error_ = err;
      head_ = (head_ + 1) % kBuffers;
      --pending_;
      cv_.notify_all();
    }
  }

  const int fd_;
  std::array<std::vector<char>, kBuffers> buffers_;
  std::array<std::size_t, kBuffers> sizes_{};
  std::mutex mu_;
  std::condition_variable cv_;
  std::size_t head_ = 0;     // the next buffer to write
  std::size_t pending_ = 0;  // buffers filled and not yet written
  bool done_ = false;
  int error_ = 0;
  std::thread thread_;
};

}  // namespace

absl::StatusOr<CopiedFile> CopyToNewFile(int from, const fs::path& from_path, const fs::path& to,
                                         mode_t mode, Sync sync, Throttle* throttle) {
  // Large blocks keep system calls few. Small files are copied through one
  // buffer per thread; large ones through PipelinedWriter (a thread per
  // file is cheap next to megabytes of I/O).
  constexpr off_t kPipelineFrom = 4 << 20;
  thread_local std::vector<char> buffer(kBlock);
  absl::StatusOr<Fd> out = Open(to, O_WRONLY | O_CREAT | O_EXCL, mode);
  if (!out.ok()) return out.status();
  struct stat st {};
  const bool pipelined = ::fstat(from, &st) == 0 && st.st_size >= kPipelineFrom;
  std::optional<PipelinedWriter> writer;
  if (pipelined) writer.emplace(out->get());
  Sha256 hash;
  CopiedFile copied;
  for (;;) {
    char* block = pipelined ? writer->Acquire() : buffer.data();
    if (block == nullptr) break;  // a write failed: Finish() says why
    ssize_t n = ReadFull(from, block, kBlock);
    if (n < 0) return ErrnoStatus(errno, "cannot read", from_path);
    if (n == 0) break;
    hash.Update(block, static_cast<std::size_t>(n));
    if (pipelined) {
      writer->Submit(static_cast<std::size_t>(n));
    } else if (!WriteFull(out->get(), block, static_cast<std::size_t>(n))) {
      return ErrnoStatus(errno, "cannot write", to);
    }
    copied.size += n;
    if (throttle != nullptr) {
      if (absl::Status s = throttle->Pace(n); !s.ok()) return s;
    }
  }
  if (pipelined) {
    if (int err = writer->Finish(); err != 0) return ErrnoStatus(err, "cannot write", to);
  }
  if (sync == Sync::kNow) {
    if (::fsync(out->get()) != 0) return ErrnoStatus(errno, "cannot fsync", to);
  } else {
    // Only a hint (errors show at the later fsync).
    ::sync_file_range(out->get(), 0, 0, SYNC_FILE_RANGE_WRITE);
  }
  if (int err = out->Close(); err != 0) return ErrnoStatus(err, "cannot close", to);
  copied.sha256 = hash.HexDigest();
  return copied;
}

}  // namespace directory_backup
