#include "tls/openssl_util.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "absl/strings/str_cat.h"

namespace cnpgi::internal {
namespace {

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

absl::Status ErrnoStatus(int err, const char* what) {
  std::string message = absl::StrCat(what, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::FailedPreconditionError(message);
  }
}

struct OpenSslString {
  void operator()(char* p) const { OPENSSL_free(p); }
  void operator()(unsigned char* p) const { OPENSSL_free(p); }
};

}  // namespace

std::string DrainOpenSslErrors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char reason[256];
    ERR_error_string_n(code, reason, sizeof(reason));
    if (!out.empty()) out += "; ";
    out += reason;
  }
  return out.empty() ? "unknown OpenSSL error" : out;
}

absl::StatusOr<std::string> ReadSmallFile(const std::string& path, size_t max_size) {
  FileDescriptor fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ErrnoStatus(errno, "cannot be opened");
  struct stat st {};
  if (fstat(fd.get(), &st) != 0) return ErrnoStatus(errno, "cannot be examined");
  // A FIFO or a device would block or never end: only regular files qualify.
  if (S_ISDIR(st.st_mode)) return absl::FailedPreconditionError("is a directory, not a file");
  if (!S_ISREG(st.st_mode)) return absl::FailedPreconditionError("is not a regular file");
  if (static_cast<size_t>(st.st_size) > max_size) {
    return absl::FailedPreconditionError(
        absl::StrCat("is ", st.st_size, " bytes long, more than the ", max_size, " accepted"));
  }
  std::string content;
  content.resize(static_cast<size_t>(st.st_size));
  size_t have = 0;
  // The size may change while we read (a writer in progress): read until
  // EOF, growing as needed, but never beyond max_size.
  while (true) {
    if (have == content.size()) {
      if (content.size() >= max_size) {
        return absl::FailedPreconditionError(
            absl::StrCat("grew beyond ", max_size, " bytes while being read"));
      }
      content.resize(std::min(max_size, content.size() + 4096));
    }
    ssize_t n = read(fd.get(), content.data() + have, content.size() - have);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot be read");
    }
    if (n == 0) break;
    have += static_cast<size_t>(n);
  }
  content.resize(have);
  return content;
}

absl::StatusOr<std::vector<PemBlock>> ParsePemBlocks(std::string_view pem) {
  ERR_clear_error();
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (bio == nullptr) return absl::ResourceExhaustedError(DrainOpenSslErrors());
  std::vector<PemBlock> blocks;
  while (true) {
    char* name = nullptr;
    char* header = nullptr;
    unsigned char* data = nullptr;
    long len = 0;
    if (PEM_read_bio(bio.get(), &name, &header, &data, &len) != 1) break;
    std::unique_ptr<char, OpenSslString> name_owner(name), header_owner(header);
    std::unique_ptr<unsigned char, OpenSslString> data_owner(data);
    blocks.push_back(PemBlock{
        .label = name,
        .headers = header,
        .der = std::string(reinterpret_cast<const char*>(data), static_cast<size_t>(len)),
    });
  }
  // PEM_read_bio ends every successful scan with "no start line"; any other
  // error means a block is damaged.
  const unsigned long last = ERR_peek_last_error();
  if (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE) {
    ERR_clear_error();
    if (blocks.empty()) {
      return absl::InvalidArgumentError("is not PEM: it has no \"-----BEGIN\" line");
    }
    return blocks;
  }
  return absl::InvalidArgumentError(absl::StrCat("is not valid PEM: block ", blocks.size() + 1,
                                                 " is damaged (", DrainOpenSslErrors(), ")"));
}

absl::StatusOr<std::vector<X509Ptr>> DecodeCertificates(const std::vector<PemBlock>& blocks) {
  std::vector<X509Ptr> certs;
  for (size_t i = 0; i < blocks.size(); ++i) {
    const PemBlock& block = blocks[i];
    const bool trusted = block.label == "TRUSTED CERTIFICATE";
    if (block.label != "CERTIFICATE" && block.label != "X509 CERTIFICATE" && !trusted) continue;
    ERR_clear_error();
    const auto* p = reinterpret_cast<const unsigned char*>(block.der.data());
    const long len = static_cast<long>(block.der.size());
    X509Ptr cert(trusted ? d2i_X509_AUX(nullptr, &p, len) : d2i_X509(nullptr, &p, len));
    if (cert == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("has a ", block.label, " block (PEM block ",
                                                     i + 1, ") that is not a valid certificate (",
                                                     DrainOpenSslErrors(), ")"));
    }
    certs.push_back(std::move(cert));
  }
  return certs;
}

absl::StatusOr<std::vector<X509Ptr>> ParseCertificates(std::string_view pem) {
  absl::StatusOr<std::vector<PemBlock>> blocks = ParsePemBlocks(pem);
  if (!blocks.ok()) return blocks.status();
  return DecodeCertificates(*blocks);
}

std::string SubjectName(const X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr ||
      X509_NAME_print_ex(bio.get(), X509_get_subject_name(cert), 0, XN_FLAG_RFC2253) < 0) {
    ERR_clear_error();
    return "(unprintable subject)";
  }
  char* data = nullptr;
  long size = BIO_get_mem_data(bio.get(), &data);
  if (size <= 0) return "(empty subject)";
  return std::string(data, static_cast<size_t>(size));
}

std::string FormatAsn1Time(const ASN1_TIME* time) {
  std::tm tm{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &tm) != 1) {
    ERR_clear_error();
    return "(invalid time)";
  }
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace cnpgi::internal
