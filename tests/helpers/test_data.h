// Reads files of tests/data for the helpers tests.
#ifndef CNPGI_TESTS_HELPERS_TEST_DATA_H_
#define CNPGI_TESTS_HELPERS_TEST_DATA_H_

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>

namespace cnpgi::test {

inline std::string ReadTestData(std::string_view name) {
  const std::string path = std::string(CNPGI_TEST_DATA_DIR) + "/" + std::string(name);
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open test data " + path);
  std::ostringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

}  // namespace cnpgi::test

#endif  // CNPGI_TESTS_HELPERS_TEST_DATA_H_
