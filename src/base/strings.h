// Not part of the API. String building shared by every component of the SDK
// (helpers, options, tls, server, testing).
//
// src/base/ is the lowest internal layer: it depends on the standard
// library, Abseil and nlohmann only, and every other component may include
// it. One home for logic more than one component needs.
#ifndef CNPGI_SRC_BASE_STRINGS_H_
#define CNPGI_SRC_BASE_STRINGS_H_

#include <charconv>
#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/string_view.h"

namespace cnpgi::internal {

// One argument of Cat(). Debian builds abseil with its own string_view type
// (ABSL_OPTION_USE_STD_STRING_VIEW is 0), so absl::StrCat does not take
// std::string_view; this accepts both, plus integers.
class CatPiece {
 public:
  CatPiece(std::string_view text) : view_(text) {}    // NOLINT: implicit by design
  CatPiece(const char* text) : view_(text) {}         // NOLINT
  CatPiece(const std::string& text) : view_(text) {}  // NOLINT
  template <typename T>
  requires(std::is_same_v<T, absl::string_view> && !std::is_same_v<T, std::string_view>)
      CatPiece(const T& text)
      : view_(text.data(), text.size()) {}  // NOLINT
  template <typename T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool> && !std::is_same_v<T, char>)
      CatPiece(T number) {  // NOLINT
    const auto result = std::to_chars(buffer_, buffer_ + sizeof buffer_, number);
    view_ = std::string_view(buffer_, static_cast<std::size_t>(result.ptr - buffer_));
  }
  CatPiece(const CatPiece&) = delete;
  CatPiece& operator=(const CatPiece&) = delete;

  std::string_view view() const { return view_; }

 private:
  char buffer_[24];
  std::string_view view_;
};

std::string CatViews(std::initializer_list<std::string_view> pieces);
void AppendViews(std::string& out, std::initializer_list<std::string_view> pieces);

// Concatenates strings and integers.
template <typename... Args>
std::string Cat(const Args&... args) {
  return CatViews({CatPiece(args).view()...});
}

// Appends strings and integers to `*out`.
template <typename... Args>
void Append(std::string* out, const Args&... args) {
  AppendViews(*out, {CatPiece(args).view()...});
}

// Two lowercase hex digits.
std::string Hex2(unsigned char byte);

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_BASE_STRINGS_H_
