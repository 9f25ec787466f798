// Not part of the API. RFC 6901 JSON pointers: reference tokens and array
// indices, for the SDK's object views (helpers/object.cc, helpers/json.cc)
// and the test kit's JSON Patch (testing/json_patch.cc). See
// base/strings.h for what src/base/ is.
#ifndef CNPGI_SRC_BASE_JSON_POINTER_H_
#define CNPGI_SRC_BASE_JSON_POINTER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace cnpgi::internal {

// How a "~" not followed by "0" or "1" is read.
enum class PointerTildes {
  kStrict,  // RFC 6901: the pointer is malformed (the SDK's own pointers)
  kKept,    // kept as it is, as the operator's JSON Patch library
            // (evanphx/json-patch) reads the patches plugins send
};

// Iterates over the reference tokens of a JSON pointer, unescaping them.
// Allocates only for a token with an escape.
class PointerTokens {
 public:
  explicit PointerTokens(std::string_view pointer, PointerTildes tildes = PointerTildes::kStrict)
      : rest_(pointer), tildes_(tildes) {}
  // False at the end. Sets `ok()` to false on a malformed pointer (not
  // starting with "/", or, with kStrict, a "~" not followed by "0" or "1").
  bool Next(std::string_view& token);
  bool ok() const { return ok_; }

 private:
  std::string_view rest_;
  std::string buffer_;  // holds a token that needed unescaping
  PointerTildes tildes_;
  bool ok_ = true;
};

// (Writing a pointer is public: cnpgi::AppendJsonPointerToken, cnpgi/json.h.)

// An array index token as RFC 6901 has it: digits only, no leading zero,
// no "-". The SDK's own pointers.
bool ParseArrayIndex(std::string_view token, std::size_t& index);

// An array index token as the operator's JSON Patch library reads it (Go's
// strconv.Atoi): an optional sign, then decimal digits, leading zeros
// allowed, within int64; negative indices count from the end. InvalidArgument
// naming the token otherwise.
absl::StatusOr<std::int64_t> ParseGoArrayIndex(std::string_view token);

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_BASE_JSON_POINTER_H_
