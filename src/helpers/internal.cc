// The shared internals of the helpers component declared in internal.h:
// string building, UTF-8 and JSON string escaping, field paths, JSON pointer
// tokens and the shape checks the object views use.
#include "helpers/internal.h"

#include "cnpgi/json.h"

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace cnpgi {
namespace {

using nlohmann::json;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

namespace internal {

std::string CatViews(std::initializer_list<std::string_view> pieces) {
  std::size_t size = 0;
  for (std::string_view piece : pieces) size += piece.size();
  std::string out;
  out.reserve(size);
  for (std::string_view piece : pieces) out += piece;
  return out;
}

std::string Hex2(unsigned char byte) {
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string{kHex[byte >> 4], kHex[byte & 0xF]};
}

std::size_t Utf8SequenceLength(const char* p, const char* end) {
  const auto* s = reinterpret_cast<const unsigned char*>(p);
  const std::size_t available = static_cast<std::size_t>(end - p);
  const unsigned char c = s[0];
  auto cont = [&](std::size_t i, unsigned char lo = 0x80, unsigned char hi = 0xBF) {
    return i < available && s[i] >= lo && s[i] <= hi;
  };
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return cont(1) ? 2 : 0;
  if (c == 0xE0) return cont(1, 0xA0) && cont(2) ? 3 : 0;
  if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xED) return cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0;  // no surrogates
  if (c == 0xF0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xF1 && c <= 0xF3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xF4) return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

bool AppendJsonString(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    // Copy runs of characters that need no escaping in one append.
    const char* run = p;
    while (p < end) {
      const auto c = static_cast<unsigned char>(*p);
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
      ++p;
    }
    out.append(run, p);
    if (p >= end) break;
    const auto c = static_cast<unsigned char>(*p);
    if (c >= 0x80) {
      const std::size_t n = Utf8SequenceLength(p, end);
      if (n == 0) return false;
      out.append(p, n);
      p += n;
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 0xF];
    }
    ++p;
  }
  out += '"';
  return true;
}

void AppendFieldPath(std::string& out, const PathStep& step) {
  if (step.is_index) {
    out += internal::Cat("[", step.index, "]");
    return;
  }
  bool plain = !step.name.empty();
  for (const char c : step.name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '_' || c == '-')) {
      plain = false;
      break;
    }
  }
  if (plain) {
    if (!out.empty()) out += '.';
    out += step.name;
  } else {
    out += internal::Cat("[", step.name, "]");
  }
}

std::string FormatFieldPath(const std::vector<std::string>& components) {
  std::string out;
  for (const std::string& component : components) {
    std::size_t index;
    if (ParseArrayIndex(component, index)) {
      AppendFieldPath(out, PathStep::Index(index));
    } else {
      AppendFieldPath(out, PathStep::Member(component));
    }
  }
  return out;
}

bool PointerTokens::Next(std::string_view& token) {
  if (!ok_ || rest_.empty()) return false;
  if (rest_.front() != '/') {
    ok_ = false;
    return false;
  }
  rest_.remove_prefix(1);
  const std::size_t slash = rest_.find('/');
  std::string_view raw = rest_.substr(0, slash);
  rest_ = slash == std::string_view::npos ? std::string_view() : rest_.substr(slash);
  if (raw.find('~') == std::string_view::npos) {
    token = raw;
    return true;
  }
  buffer_.clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '~') {
      buffer_ += raw[i];
      continue;
    }
    if (i + 1 >= raw.size() || (raw[i + 1] != '0' && raw[i + 1] != '1')) {
      ok_ = false;
      return false;
    }
    buffer_ += raw[i + 1] == '0' ? '~' : '/';
    ++i;
  }
  token = buffer_;
  return true;
}

bool ParseArrayIndex(std::string_view token, std::size_t& index) {
  if (token.empty() || (token.size() > 1 && token[0] == '0')) return false;
  const auto result = std::from_chars(token.data(), token.data() + token.size(), index);
  return result.ec == std::errc() && result.ptr == token.data() + token.size();
}

const nlohmann::json* Member(const nlohmann::json* object, std::string_view key) {
  if (object == nullptr || !object->is_object()) return nullptr;
  const auto& members = object->get_ref<const json::object_t&>();
  auto it = members.find(key);
  return it == members.end() ? nullptr : &it->second;
}

std::string_view StringOrEmpty(const nlohmann::json* value) {
  if (value == nullptr || !value->is_string()) return {};
  return value->get_ref<const json::string_t&>();
}

absl::Status TypeError(std::string_view what, std::string_view path, std::string_view expected,
                       const nlohmann::json& got) {
  return absl::InvalidArgumentError(
      internal::Cat(what, " ", path, ": expected ", expected, ", got ", JsonTypeName(got)));
}

absl::Status CheckOptionalString(std::string_view what, const nlohmann::json* value,
                                 std::string_view path) {
  if (value == nullptr || value->is_null() || value->is_string()) return absl::OkStatus();
  return TypeError(what, path, "a string", *value);
}

absl::Status CheckOptionalBool(std::string_view what, const nlohmann::json* value,
                               std::string_view path) {
  if (value == nullptr || value->is_null() || value->is_boolean()) return absl::OkStatus();
  return TypeError(what, path, "a boolean", *value);
}

absl::Status CheckOptionalObject(std::string_view what, const nlohmann::json* value,
                                 std::string_view path) {
  if (value == nullptr || value->is_null() || value->is_object()) return absl::OkStatus();
  return TypeError(what, path, "an object", *value);
}

absl::Status CheckOptionalArray(std::string_view what, const nlohmann::json* value,
                                std::string_view path) {
  if (value == nullptr || value->is_null() || value->is_array()) return absl::OkStatus();
  return TypeError(what, path, "an array", *value);
}

absl::Status CheckOptionalStringMap(std::string_view what, const nlohmann::json* value,
                                    std::string_view path) {
  if (absl::Status s = CheckOptionalObject(what, value, path); !s.ok()) return s;
  if (value == nullptr || value->is_null()) return absl::OkStatus();
  for (const auto& [key, member] : value->get_ref<const json::object_t&>()) {
    if (!member.is_string()) {
      std::string member_path(path);
      AppendFieldPath(member_path, PathStep::Member(key));
      return TypeError(what, member_path, "a string", member);
    }
  }
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace cnpgi
