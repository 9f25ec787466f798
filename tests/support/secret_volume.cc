#include "support/secret_volume.h"

#include <stdio.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "support/temp_dir.h"

namespace cnpgi::testing_support {
namespace {

void Throw(std::string_view what, const std::error_code& ec) {
  throw std::runtime_error("secret volume: " + std::string(what) + ": " + ec.message());
}

}  // namespace

SecretVolume::SecretVolume(std::filesystem::path dir, const Files& files) : dir_(std::move(dir)) {
  std::error_code ec;
  if (!std::filesystem::create_directory(dir_, ec)) {
    Throw("cannot create " + dir_.string(), ec ? ec : std::make_error_code(std::errc::file_exists));
  }
  Update(files);
}

void SecretVolume::Update(const Files& files) {
  std::error_code ec;
  // The kubelet names these after the time of the update; a counter keeps
  // names unique when a test updates twice within one clock tick.
  const std::string name = "..generation_" + std::to_string(++generation_);
  const std::filesystem::path next = dir_ / name;
  std::filesystem::create_directory(next, ec);
  if (ec) Throw("cannot create " + next.string(), ec);
  for (const auto& [key, content] : files) WriteFile(next / key, content);

  const std::filesystem::path data = dir_ / "..data";
  const std::filesystem::path data_tmp = dir_ / "..data_tmp";
  std::filesystem::remove(data_tmp, ec);
  std::filesystem::create_directory_symlink(name, data_tmp, ec);
  if (ec) Throw("cannot create " + data_tmp.string(), ec);
  // rename(2) over an existing symlink is the atomic step.
  if (::rename(data_tmp.c_str(), data.c_str()) != 0) {
    Throw("cannot rename ..data_tmp to ..data", std::error_code(errno, std::generic_category()));
  }

  for (const auto& [key, content] : files) {
    const std::filesystem::path link = dir_ / key;
    if (!std::filesystem::is_symlink(std::filesystem::symlink_status(link, ec))) {
      std::filesystem::create_symlink(std::filesystem::path("..data") / key, link, ec);
      if (ec) Throw("cannot create " + link.string(), ec);
    }
  }
  // Links for keys that no longer exist dangle, as they do under the kubelet
  // until it cleans them up; remove them right away.
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    const std::string entry_name = entry.path().filename().string();
    if (entry_name.starts_with("..")) continue;
    if (!files.contains(entry_name)) std::filesystem::remove(entry.path(), ec);
  }
  if (!current_.empty()) std::filesystem::remove_all(current_, ec);
  current_ = next;
}

}  // namespace cnpgi::testing_support
