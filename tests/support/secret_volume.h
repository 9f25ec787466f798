// A directory laid out and updated the way the kubelet projects a Secret into
// a pod, so that tests rotate certificates exactly as Kubernetes does:
//
//   <dir>/..2025_01_01_00_00_00.000000001/tls.crt   the real files
//   <dir>/..data -> ..2025_01_01_00_00_00.000000001
//   <dir>/tls.crt -> ..data/tls.crt                 what the plugin opens
//
// An update writes a new timestamped directory, points a temporary symlink at
// it and renames that over ..data: readers see either every old file or every
// new one, never a mix, and the path they opened never changes.
#ifndef CNPGI_TESTS_SUPPORT_SECRET_VOLUME_H_
#define CNPGI_TESTS_SUPPORT_SECRET_VOLUME_H_

#include <filesystem>
#include <map>
#include <string>
#include <string_view>

namespace cnpgi::testing_support {

class SecretVolume {
 public:
  using Files = std::map<std::string, std::string>;  // key -> content

  // Creates `dir` (it must not exist yet) holding `files`. Throws
  // std::runtime_error on failure, like every method here.
  SecretVolume(std::filesystem::path dir, const Files& files);

  // Atomically replaces the whole content with `files`; keys missing from
  // `files` disappear, as they do from a Secret.
  void Update(const Files& files);

  const std::filesystem::path& dir() const { return dir_; }
  // The path a consumer opens for `key`: <dir>/<key>.
  std::filesystem::path path(std::string_view key) const { return dir_ / key; }

 private:
  std::filesystem::path dir_;
  std::filesystem::path current_;  // the timestamped directory ..data points to
  int generation_ = 0;
};

}  // namespace cnpgi::testing_support

#endif  // CNPGI_TESTS_SUPPORT_SECRET_VOLUME_H_
