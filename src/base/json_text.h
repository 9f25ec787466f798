// Not part of the API. UTF-8 validation and JSON string escaping, for the
// JSON serializer (helpers/json.cc) and the JSON log format
// (options/logging.cc). See base/strings.h for what src/base/ is.
#ifndef CNPGI_SRC_BASE_JSON_TEXT_H_
#define CNPGI_SRC_BASE_JSON_TEXT_H_

#include <cstddef>
#include <string_view>

namespace cnpgi::internal {

// Length of the valid UTF-8 sequence starting at `p` (at most `end`), or 0
// when the byte at `p` does not start one (stray continuation bytes,
// overlong forms, surrogates, code points above U+10FFFF, truncated
// sequences).
std::size_t Utf8SequenceLength(const char* p, const char* end);

// Whether all of `text` is valid UTF-8.
bool IsValidUtf8(std::string_view text);

// What AppendJsonEscaped() does with bytes that are not UTF-8.
enum class InvalidUtf8 {
  kFail,     // stop and return false: the caller reports the error
  kReplace,  // write U+FFFD instead of each such byte: any bytes make JSON
};

// Appends the body of a JSON string literal for `text` (without the quotes)
// to `out`: quotes, backslashes and control characters escaped, UTF-8 kept
// as it is. `Out` is std::string or fmt's memory buffer: anything with
// append(const char*, const char*). Inline, because both callers are hot
// paths (every document serialized, every log line).
template <class Out>
bool AppendJsonEscaped(Out& out, std::string_view text, InvalidUtf8 invalid) {
  static constexpr char kHex[] = "0123456789abcdef";
  const char* p = text.data();
  const char* const end = p + text.size();
  auto put = [&out](std::string_view s) { out.append(s.data(), s.data() + s.size()); };
  while (p < end) {
    // Copy runs of characters that need no escaping in one append.
    const char* run = p;
    while (p < end) {
      const auto c = static_cast<unsigned char>(*p);
      if (c < 0x20 || c == '"' || c == '\\' || c >= 0x80) break;
      ++p;
    }
    if (p != run) out.append(run, p);
    if (p >= end) break;
    const auto c = static_cast<unsigned char>(*p);
    if (c >= 0x80) {
      const std::size_t n = Utf8SequenceLength(p, end);
      if (n == 0) {
        if (invalid == InvalidUtf8::kFail) return false;
        put("\\ufffd");
        ++p;
        continue;
      }
      out.append(p, p + n);
      p += n;
      continue;
    }
    switch (c) {
      case '"':
        put("\\\"");
        break;
      case '\\':
        put("\\\\");
        break;
      case '\b':
        put("\\b");
        break;
      case '\f':
        put("\\f");
        break;
      case '\n':
        put("\\n");
        break;
      case '\r':
        put("\\r");
        break;
      case '\t':
        put("\\t");
        break;
      default: {
        const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(escaped, escaped + sizeof escaped);
      }
    }
    ++p;
  }
  return true;
}

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_BASE_JSON_TEXT_H_
