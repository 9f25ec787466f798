// Bounded, non-throwing JSON parser and serializer producing and consuming
// nlohmann::json documents.
//
// Why not nlohmann's own parser (see also cnpgi/json.h): on the 8.8 KB
// fixture Cluster it runs about 930 k instructions against 436 k here, most
// of them in a lexer that handles one character at a time through an input
// adapter and copies every token through a buffer; bounding its depth takes
// a SAX handler, no faster. This parser scans contiguous memory, builds
// strings straight from the input and inserts object members in place; it
// recurses, but never deeper than JsonLimits::max_depth.
#include "cnpgi/json.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <new>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "helpers/internal.h"

namespace cnpgi {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxWriteDepth = 512;

bool IsSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

std::uint64_t Load8(const char* p) {
  std::uint64_t word;
  std::memcpy(&word, p, sizeof word);
  return word;
}

// True if any of the 8 bytes in `word` ends or interrupts a plain string run:
// '"', '\\', a control character or a non-ASCII byte. Tests eight bytes with a
// few integer operations (the classic "has a zero byte" bit trick); a false
// positive only makes the caller fall back to the byte-by-byte loop.
bool WordNeedsAttention(std::uint64_t word) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
  auto has_zero_byte = [](std::uint64_t v) { return (v - kOnes) & ~v & kHighs; };
  const std::uint64_t quote = has_zero_byte(word ^ (kOnes * '"'));
  const std::uint64_t backslash = has_zero_byte(word ^ (kOnes * '\\'));
  const std::uint64_t control = (word - kOnes * 0x20) & ~word & kHighs;
  return (quote | backslash | control | (word & kHighs)) != 0;
}
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Describes the byte at `p` for a message: 'x' when printable, else hex.
std::string DescribeByte(const char* p, const char* end) {
  if (p >= end) return "end of input";
  const auto c = static_cast<unsigned char>(*p);
  if (c >= 0x20 && c < 0x7f) return internal::Cat("'", std::string_view(p, 1), "'");
  return internal::Cat("byte 0x", internal::Hex2(c));
}

class Parser {
 public:
  Parser(std::string_view text, const JsonLimits& limits)
      : begin_(text.data()), p_(text.data()), end_(text.data() + text.size()), limits_(limits) {}

  absl::StatusOr<json> Run() {
    if (static_cast<std::size_t>(end_ - begin_) > limits_.max_bytes) {
      return absl::InvalidArgumentError(internal::Cat("JSON document of ", end_ - begin_,
                                                      " bytes exceeds the limit of ",
                                                      limits_.max_bytes, " bytes"));
    }
    // A UTF-8 byte-order mark is tolerated, as nlohmann's parser does.
    if (end_ - p_ >= 3 && std::memcmp(p_, "\xEF\xBB\xBF", 3) == 0) p_ += 3;
    SkipSpace();
    json root;
    if (p_ >= end_) {
      Fail(p_, "empty document, expected a JSON value");
    } else if (Value(root, 0)) {
      SkipSpace();
      if (p_ < end_)
        Fail(p_, internal::Cat("unexpected ", DescribeByte(p_, end_),
                               " after the end of the JSON value"));
    }
    if (error_at_ == nullptr) return root;
    return ErrorStatus();
  }

 private:
  void SkipSpace() {
    // Indentation of pretty-printed documents comes in runs of spaces.
    while (end_ - p_ >= 8 && Load8(p_) == 0x2020202020202020ULL) p_ += 8;
    while (p_ < end_ && IsSpace(*p_)) ++p_;
  }

  // Records the first error; always returns false so callers can
  // `return Fail(...)`.
  bool Fail(const char* at, std::string message) {
    if (error_at_ == nullptr) {
      error_at_ = at;
      error_ = std::move(message);
    }
    return false;
  }

  absl::Status ErrorStatus() const {
    std::size_t line = 1;
    const char* line_start = begin_;
    for (const char* q = begin_; q < error_at_; ++q) {
      if (*q == '\n') {
        ++line;
        line_start = q + 1;
      }
    }
    std::string path;
    for (auto it = error_path_.rbegin(); it != error_path_.rend(); ++it) {
      internal::AppendFieldPath(path, *it);
    }
    return absl::InvalidArgumentError(internal::Cat(
        "invalid JSON at line ", line, ", column ", error_at_ - line_start + 1, " (byte ",
        error_at_ - begin_, ")", path.empty() ? "" : internal::Cat(", in ", path), ": ", error_));
  }

  bool Value(json& out, std::size_t depth) {
    if (p_ >= end_) return Fail(p_, "unexpected end of input, expected a value");
    switch (*p_) {
      case '{':
        return Object(out, depth + 1);
      case '[':
        return Array(out, depth + 1);
      case '"':
        out = json::value_t::string;
        return String(*out.get_ptr<json::string_t*>());
      case 't':
        if (!Literal("true")) return false;
        out = true;
        return true;
      case 'f':
        if (!Literal("false")) return false;
        out = false;
        return true;
      case 'n':
        if (!Literal("null")) return false;
        out = nullptr;
        return true;
      default:
        if (*p_ == '-' || IsDigit(*p_)) return Number(out);
        return Fail(p_, internal::Cat("unexpected ", DescribeByte(p_, end_), ", expected a value"));
    }
  }

  bool Literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() ||
        std::memcmp(p_, word.data(), word.size()) != 0) {
      return Fail(p_, internal::Cat("invalid literal, expected '", word, "'"));
    }
    p_ += word.size();
    return true;
  }

  bool Object(json& out, std::size_t depth) {
    if (depth > limits_.max_depth) {
      return Fail(p_,
                  internal::Cat("nesting deeper than the limit of ", limits_.max_depth, " levels"));
    }
    ++p_;  // '{'
    out = json::value_t::object;
    auto& members = *out.get_ptr<json::object_t*>();
    SkipSpace();
    if (p_ < end_ && *p_ == '}') {
      ++p_;
      return true;
    }
    while (true) {
      if (p_ >= end_ || *p_ != '"') {
        return Fail(p_, internal::Cat("unexpected ", DescribeByte(p_, end_),
                                      ", expected a member name in double quotes"));
      }
      std::string key;
      if (!String(key)) return false;
      SkipSpace();
      if (p_ >= end_ || *p_ != ':') {
        return Fail(p_, internal::Cat("unexpected ", DescribeByte(p_, end_),
                                      ", expected ':' after member name \"", key, "\""));
      }
      ++p_;
      SkipSpace();
      // Go writes map keys sorted, so hinting at the end usually makes the
      // insertion O(1). Duplicate names: the later value replaces the
      // earlier one.
      const std::size_t before = members.size();
      auto it = members.emplace_hint(members.end(), std::move(key), nullptr);
      if (members.size() == before) it->second = nullptr;
      if (!Value(it->second, depth)) {
        error_path_.push_back(internal::PathStep::Member(it->first));
        return false;
      }
      SkipSpace();
      if (p_ < end_ && *p_ == ',') {
        ++p_;
        SkipSpace();
        continue;
      }
      if (p_ < end_ && *p_ == '}') {
        ++p_;
        return true;
      }
      return Fail(p_, internal::Cat("unexpected ", DescribeByte(p_, end_),
                                    ", expected ',' or '}' after member \"", it->first, "\""));
    }
  }

  bool Array(json& out, std::size_t depth) {
    if (depth > limits_.max_depth) {
      return Fail(p_,
                  internal::Cat("nesting deeper than the limit of ", limits_.max_depth, " levels"));
    }
    ++p_;  // '['
    out = json::value_t::array;
    SkipSpace();
    if (p_ < end_ && *p_ == ']') {
      ++p_;
      return true;
    }
    // Elements are collected on a stack shared by all arrays and moved into
    // an array of the right size at the end: one allocation per array
    // instead of one per doubling.
    const std::size_t base = stack_.size();
    while (true) {
      json element;
      if (!Value(element, depth)) {
        error_path_.push_back(internal::PathStep::Index(stack_.size() - base));
        return false;
      }
      stack_.push_back(std::move(element));
      SkipSpace();
      if (p_ < end_ && *p_ == ',') {
        ++p_;
        SkipSpace();
        continue;
      }
      if (p_ < end_ && *p_ == ']') {
        ++p_;
        auto& elements = *out.get_ptr<json::array_t*>();
        elements.reserve(stack_.size() - base);
        std::move(stack_.begin() + static_cast<std::ptrdiff_t>(base), stack_.end(),
                  std::back_inserter(elements));
        stack_.resize(base);
        return true;
      }
      return Fail(p_, internal::Cat("unexpected ", DescribeByte(p_, end_),
                                    ", expected ',' or ']' in an array"));
    }
  }

  static int HexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // Reads the 4 hex digits after "\u" at p_ (p_ on the 'u').
  bool Hex4(std::uint32_t& code) {
    if (end_ - p_ < 5) return Fail(p_ - 1, "truncated \\u escape");
    code = 0;
    for (int i = 1; i <= 4; ++i) {
      const int digit = HexValue(p_[i]);
      if (digit < 0) return Fail(p_ - 1, "invalid \\u escape, expected 4 hex digits");
      code = code * 16 + static_cast<std::uint32_t>(digit);
    }
    p_ += 5;
    return true;
  }

  static void AppendUtf8(std::uint32_t code, std::string& out) {
    if (code < 0x80) {
      out.push_back(static_cast<char>(code));
    } else if (code < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (code >> 6)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else if (code < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (code >> 12)));
      out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (code >> 18)));
      out.push_back(static_cast<char>(0x80 | ((code >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((code >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (code & 0x3F)));
    }
  }

  bool Escape(std::string& out) {
    const char* at = p_;
    ++p_;  // '\\'
    if (p_ >= end_) return Fail(at, "unterminated escape sequence");
    switch (*p_) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '/':
        out.push_back('/');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        std::uint32_t code;
        if (!Hex4(code)) return false;
        if (code >= 0xDC00 && code <= 0xDFFF) {
          return Fail(at, "lone low surrogate in \\u escape");
        }
        if (code >= 0xD800 && code <= 0xDBFF) {
          if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') {
            return Fail(at, "high surrogate in \\u escape not followed by a low surrogate");
          }
          ++p_;
          std::uint32_t low;
          if (!Hex4(low)) return false;
          if (low < 0xDC00 || low > 0xDFFF) {
            return Fail(at, "high surrogate in \\u escape not followed by a low surrogate");
          }
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
        }
        AppendUtf8(code, out);
        return true;
      }
      default:
        return Fail(at, internal::Cat("invalid escape sequence '\\", std::string_view(p_, 1), "'"));
    }
    ++p_;
    return true;
  }

  // p_ is on the opening quote.
  bool String(std::string& out) {
    const char* open = p_++;
    // Fast path: most Kubernetes strings are plain ASCII without escapes and
    // are copied in one go.
    const char* start = p_;
    while (end_ - p_ >= 8 && !WordNeedsAttention(Load8(p_))) p_ += 8;
    while (p_ < end_) {
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out.assign(start, p_);
        ++p_;
        return true;
      }
      if (c == '\\' || c < 0x20 || c >= 0x80) break;
      ++p_;
    }
    out.assign(start, p_);
    while (true) {
      if (p_ >= end_) return Fail(open, "unterminated string");
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        ++p_;
        return true;
      }
      if (c == '\\') {
        if (!Escape(out)) return false;
      } else if (c < 0x20) {
        return Fail(p_, internal::Cat("control character 0x", internal::Hex2(c),
                                      " in a string must be escaped"));
      } else if (c < 0x80) {
        const char* run = p_;
        while (p_ < end_) {
          const auto d = static_cast<unsigned char>(*p_);
          if (d == '"' || d == '\\' || d < 0x20 || d >= 0x80) break;
          ++p_;
        }
        out.append(run, p_);
      } else {
        const std::size_t n = internal::Utf8SequenceLength(p_, end_);
        if (n == 0) return Fail(p_, "invalid UTF-8 in a string");
        out.append(p_, n);
        p_ += n;
      }
    }
  }

  bool Number(json& out) {
    const char* start = p_;
    bool integral = true;
    if (*p_ == '-') ++p_;
    if (p_ >= end_ || !IsDigit(*p_)) return Fail(start, "invalid number, expected a digit");
    if (*p_ == '0') {
      ++p_;
    } else {
      while (p_ < end_ && IsDigit(*p_)) ++p_;
    }
    if (p_ < end_ && *p_ == '.') {
      integral = false;
      ++p_;
      if (p_ >= end_ || !IsDigit(*p_)) {
        return Fail(start, "invalid number, expected a digit after '.'");
      }
      while (p_ < end_ && IsDigit(*p_)) ++p_;
    }
    if (p_ < end_ && (*p_ == 'e' || *p_ == 'E')) {
      integral = false;
      ++p_;
      if (p_ < end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (p_ >= end_ || !IsDigit(*p_)) {
        return Fail(start, "invalid number, expected a digit in the exponent");
      }
      while (p_ < end_ && IsDigit(*p_)) ++p_;
    }
    if (integral) {
      // Same typing as nlohmann: unsigned unless negative; out of 64-bit
      // range falls through to double.
      if (*start == '-') {
        std::int64_t v;
        if (std::from_chars(start, p_, v).ec == std::errc()) {
          out = v;
          return true;
        }
      } else {
        std::uint64_t v;
        if (std::from_chars(start, p_, v).ec == std::errc()) {
          out = v;
          return true;
        }
      }
    }
    double d = 0;
    const auto result = std::from_chars(start, p_, d);
    if (result.ec == std::errc::result_out_of_range) {
      if (Overflows(start, p_)) {
        return Fail(start, internal::Cat("number ", std::string_view(start, p_ - start),
                                         " is out of the range of a double"));
      }
      d = *start == '-' ? -0.0 : 0.0;  // underflow: as strtod, round to zero
    } else if (result.ec != std::errc() || !std::isfinite(d)) {
      return Fail(start, internal::Cat("number ", std::string_view(start, p_ - start),
                                       " is out of the range of a double"));
    }
    out = d;
    return true;
  }

  // For a number from_chars reported out of range: true if its magnitude is
  // too large (rather than too small). Decides by the decimal exponent of the
  // first significant digit.
  static bool Overflows(const char* p, const char* end) {
    if (*p == '-') ++p;
    std::int64_t position = 0;  // exponent of the first significant digit + 1
    bool seen_significant = false;
    bool after_point = false;
    std::int64_t leading_fraction_zeros = 0;
    std::int64_t integer_digits = 0;
    for (; p < end && *p != 'e' && *p != 'E'; ++p) {
      if (*p == '.') {
        after_point = true;
        continue;
      }
      if (!after_point) {
        if (seen_significant || *p != '0') {
          seen_significant = true;
          ++integer_digits;
        }
      } else if (!seen_significant) {
        if (*p == '0') {
          ++leading_fraction_zeros;
        } else {
          seen_significant = true;
        }
      }
    }
    if (!seen_significant) return false;  // zero never overflows
    position = integer_digits > 0 ? integer_digits : -leading_fraction_zeros;
    std::int64_t exponent = 0;
    if (p < end) {
      ++p;
      bool negative = false;
      if (*p == '+' || *p == '-') negative = *p++ == '-';
      for (; p < end; ++p) {
        if (exponent < 100000000) exponent = exponent * 10 + (*p - '0');
      }
      if (negative) exponent = -exponent;
    }
    return position + exponent > 0;
  }

  const char* begin_;
  const char* p_;
  const char* end_;
  JsonLimits limits_;
  const char* error_at_ = nullptr;
  std::string error_;
  std::vector<internal::PathStep> error_path_;  // innermost step first
  std::vector<json> stack_;                     // elements of open arrays
};

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  absl::Status Write(const json& value) {
    if (Value(value, 0)) return absl::OkStatus();
    std::string path;
    for (auto it = path_.rbegin(); it != path_.rend(); ++it) internal::AppendFieldPath(path, *it);
    return absl::InvalidArgumentError(internal::Cat(
        "cannot write JSON", path.empty() ? "" : internal::Cat(" at ", path), ": ", error_));
  }

 private:
  bool Fail(std::string message) {
    error_ = std::move(message);
    return false;
  }

  bool Value(const json& value, std::size_t depth) {
    switch (value.type()) {
      case json::value_t::null:
        out_ += "null";
        return true;
      case json::value_t::boolean:
        out_ += value.get_ref<const json::boolean_t&>() ? "true" : "false";
        return true;
      case json::value_t::number_integer:
        return Integer(value.get_ref<const json::number_integer_t&>());
      case json::value_t::number_unsigned:
        return Integer(value.get_ref<const json::number_unsigned_t&>());
      case json::value_t::number_float:
        return Float(value.get_ref<const json::number_float_t&>());
      case json::value_t::string:
        if (!internal::AppendJsonString(value.get_ref<const json::string_t&>(), out_)) {
          return Fail("string is not valid UTF-8");
        }
        return true;
      case json::value_t::object: {
        if (depth >= kMaxWriteDepth) return Fail("nesting deeper than 512 levels");
        out_ += '{';
        bool first = true;
        for (const auto& [key, member] : value.get_ref<const json::object_t&>()) {
          if (!first) out_ += ',';
          first = false;
          if (!internal::AppendJsonString(key, out_)) {
            path_.push_back(internal::PathStep::Member(key));
            return Fail("member name is not valid UTF-8");
          }
          out_ += ':';
          if (!Value(member, depth + 1)) {
            path_.push_back(internal::PathStep::Member(key));
            return false;
          }
        }
        out_ += '}';
        return true;
      }
      case json::value_t::array: {
        if (depth >= kMaxWriteDepth) return Fail("nesting deeper than 512 levels");
        out_ += '[';
        const auto& elements = value.get_ref<const json::array_t&>();
        for (std::size_t i = 0; i < elements.size(); ++i) {
          if (i > 0) out_ += ',';
          if (!Value(elements[i], depth + 1)) {
            path_.push_back(internal::PathStep::Index(i));
            return false;
          }
        }
        out_ += ']';
        return true;
      }
      case json::value_t::binary:
        return Fail("binary values have no JSON text");
      case json::value_t::discarded:
        return Fail("discarded value");
    }
    return Fail("unknown value type");
  }

  template <typename Int>
  bool Integer(Int v) {
    char buffer[24];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
    out_.append(buffer, result.ptr);
    return true;
  }

  bool Float(double v) {
    if (!std::isfinite(v)) return Fail("NaN and infinite numbers have no JSON text");
    // Shortest text that reads back as the same double. Integral values are
    // written without ".0" so that Go decodes them into integer fields.
    char buffer[32];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, v);
    out_.append(buffer, result.ptr);
    return true;
  }

  std::string& out_;
  std::string error_;
  std::vector<internal::PathStep> path_;  // innermost step first
};

}  // namespace

absl::StatusOr<nlohmann::json> ParseJson(std::string_view text, const JsonLimits& limits) {
  try {
    return Parser(text, limits).Run();
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError(
        internal::Cat("out of memory while parsing a JSON document of ", text.size(), " bytes"));
  } catch (const std::exception& e) {
    return absl::InternalError(internal::Cat("unexpected error while parsing JSON: ", e.what()));
  }
}

absl::Status internal::AppendJson(const nlohmann::json& value, std::string& out) {
  try {
    return Writer(out).Write(value);
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while writing JSON");
  } catch (const std::exception& e) {
    return absl::InternalError(internal::Cat("unexpected error while writing JSON: ", e.what()));
  }
}

absl::StatusOr<std::string> ToJson(const nlohmann::json& value) {
  std::string out;
  absl::Status status = internal::AppendJson(value, out);
  if (!status.ok()) return status;
  return out;
}

void AppendJsonPointerToken(std::string_view token, std::string& out) {
  out += '/';
  for (const char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
}

const nlohmann::json* FindJson(const nlohmann::json& document, std::string_view pointer) {
  const json* node = &document;
  internal::PointerTokens tokens(pointer);
  std::string_view token;
  while (tokens.Next(token)) {
    if (node->is_object()) {
      const auto& members = node->get_ref<const json::object_t&>();
      auto it = members.find(token);
      if (it == members.end()) return nullptr;
      node = &it->second;
    } else if (node->is_array()) {
      std::size_t index;
      const auto& elements = node->get_ref<const json::array_t&>();
      if (!internal::ParseArrayIndex(token, index) || index >= elements.size()) return nullptr;
      node = &elements[index];
    } else {
      return nullptr;
    }
  }
  return tokens.ok() ? node : nullptr;
}

std::string_view JsonTypeName(const nlohmann::json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "a number";
    case json::value_t::binary:
      return "a binary value";
    case json::value_t::discarded:
      return "a discarded value";
  }
  return "an unknown value";
}

}  // namespace cnpgi
