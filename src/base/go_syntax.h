// Not part of the API. Go's spellings of booleans and durations, for plugin
// parameters (helpers/parameters.cc, public as cnpgi::ParseBool and
// cnpgi::ParseDuration) and command-line flags (options/server_options.cc)
// alike, so that a value valid in one place is valid in the other. See
// base/strings.h for what src/base/ is.
#ifndef CNPGI_SRC_BASE_GO_SYNTAX_H_
#define CNPGI_SRC_BASE_GO_SYNTAX_H_

#include <optional>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace cnpgi::internal {

// Go's strconv.ParseBool: 1 t T TRUE true True, 0 f F FALSE false False.
std::optional<bool> ParseGoBool(std::string_view text);

// Go's time.ParseDuration syntax ("300ms", "1h30m", "1.5h", "-2s", "0")
// plus the units PostgreSQL and people use ("5min", "7d"): a sequence of
// <number><unit> with units ns, us (or µs), ms, s, m or min, h, d; an
// optional sign; "0" alone is zero. Every Go duration parses to the value
// Go gives it. On error, InvalidArgument with the reason only (e.g.
// `unknown unit "x" (use ...)`): callers name the value and where it came
// from.
absl::StatusOr<absl::Duration> ParseDurationText(std::string_view text);

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_BASE_GO_SYNTAX_H_
