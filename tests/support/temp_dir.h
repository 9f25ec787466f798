// A private temporary directory for one test, removed with everything in it
// when the object goes away.
#ifndef CNPGI_TESTS_SUPPORT_TEMP_DIR_H_
#define CNPGI_TESTS_SUPPORT_TEMP_DIR_H_

#include <filesystem>
#include <string_view>

namespace cnpgi::testing_support {

class TempDir {
 public:
  // Creates a fresh directory under the system temporary directory ($TMPDIR
  // or /tmp). Throws std::runtime_error when it cannot, which GoogleTest
  // reports as a failure of the test that asked for it.
  TempDir();
  ~TempDir();

  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // path() / name, without creating anything.
  std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// Writes `content` to `path`, replacing the file. Throws std::runtime_error on
// failure, naming the path.
void WriteFile(const std::filesystem::path& path, std::string_view content);

}  // namespace cnpgi::testing_support

#endif  // CNPGI_TESTS_SUPPORT_TEMP_DIR_H_
