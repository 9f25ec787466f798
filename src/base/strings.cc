#include "base/strings.h"

namespace cnpgi::internal {

std::string CatViews(std::initializer_list<std::string_view> pieces) {
  std::size_t size = 0;
  for (std::string_view piece : pieces) size += piece.size();
  std::string out;
  out.reserve(size);
  for (std::string_view piece : pieces) out += piece;
  return out;
}

void AppendViews(std::string& out, std::initializer_list<std::string_view> pieces) {
  std::size_t size = out.size();
  for (std::string_view piece : pieces) size += piece.size();
  out.reserve(size);
  for (std::string_view piece : pieces) out += piece;
}

std::string Hex2(unsigned char byte) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string{kHex[byte >> 4], kHex[byte & 0xF]};
}

}  // namespace cnpgi::internal
