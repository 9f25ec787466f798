#include "cnpgi/errors.h"

#include <algorithm>

#include "helpers/internal.h"

namespace cnpgi {

using internal::Cat;

namespace internal {

std::string CutToBytes(std::string_view text, std::size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  std::size_t keep = max_bytes;
  // Back off from a cut inside a multi-byte character (continuation bytes
  // are 10xxxxxx).
  while (keep > 0 && (static_cast<unsigned char>(text[keep]) & 0xC0) == 0x80) --keep;
  return Cat(text.substr(0, keep), "...(", text.size(), " bytes)");
}

}  // namespace internal

std::string QuoteValue(std::string_view value, std::size_t max_bytes) {
  std::string out;
  out.reserve(std::min(value.size(), max_bytes) + 24);
  out += '"';
  const char* p = value.data();
  const char* const end = p + value.size();
  std::size_t shown = 0;
  while (p < end) {
    const unsigned char c = static_cast<unsigned char>(*p);
    const std::size_t sequence = c < 0x80 ? 1 : internal::Utf8SequenceLength(p, end);
    const std::size_t length = sequence == 0 ? 1 : sequence;  // an invalid byte: escaped
    if (shown + length > max_bytes) break;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7F || sequence == 0) {
      out += "\\x";
      out += internal::Hex2(c);
    } else {
      out.append(p, length);
    }
    p += length;
    shown += length;
  }
  if (p < end) out += Cat("...(", value.size(), " bytes)");
  out += '"';
  return out;
}

absl::Status InvalidParameterError(const ValidationError& error) {
  return absl::InvalidArgumentError(Cat("invalid parameter ", error.PathString(), "=",
                                        QuoteValue(error.value), ": ", error.message));
}

absl::Status InvalidParameterError(std::string_view name, std::string_view value,
                                   std::string_view reason) {
  return absl::InvalidArgumentError(
      Cat("invalid parameter ", name, "=", QuoteValue(value), ": ", reason));
}

absl::Status WrongKindError(std::string_view expected_kind, const Object& got) {
  const std::string_view kind = got.kind();
  return absl::InvalidArgumentError(
      Cat("expected a ", expected_kind, ", got ",
          kind.empty() ? std::string("an object without kind") : Cat("a ", kind),
          got.name().empty() ? "" : Cat(" named ", got.name())));
}

absl::Status WalNotFoundError(std::string_view wal_name, std::string_view where) {
  return absl::NotFoundError(
      Cat("WAL file ", wal_name, " not found", where.empty() ? "" : Cat(" in ", where)));
}

absl::Status BackendUnavailableError(std::string_view backend, std::string_view cause) {
  return absl::UnavailableError(Cat(backend, " unavailable: ", cause));
}

}  // namespace cnpgi
