// absl::Status builders for the errors plugins return most.
//
// The operator treats every non-OK status alike (a failed step, retried by
// its own machinery), but people read the messages in the operator's logs,
// Cluster conditions and Backup status, and other tools (and the CNPG-I
// convention for WAL restore) read the codes. These helpers pick the code and
// write a message that names the cause.
#ifndef CNPGI_ERRORS_H_
#define CNPGI_ERRORS_H_

#include <cstddef>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "cnpgi/object.h"
#include "cnpgi/validation.h"

namespace cnpgi {

// A value that came from outside (a parameter, a label, a request field),
// quoted for an error message: quotes, backslashes and control characters
// escaped, and, beyond `max_bytes` bytes, cut at a character boundary with
// the value's length: "abcdef...(3145728 bytes)". Messages that echo values
// whole grow with them, past what the operator accepts (answers under
// 4 MiB) and what Kubernetes shows in a condition (32 KiB): a 3 MiB label
// value made a 6 MB answer that the user never saw. The SDK's helpers quote
// every value they echo this way; use it for yours.
inline constexpr std::size_t kQuotedValueBytes = 64;
std::string QuoteValue(std::string_view value, std::size_t max_bytes = kQuotedValueBytes);

// InvalidArgument for a bad plugin parameter:
// "invalid parameter spec.plugins[1].parameters.retention=\"7x\": <reason>"
// (the value quoted with QuoteValue()).
absl::Status InvalidParameterError(const ValidationError& error);
// As above for a parameter known by name only (e.g. a request parameter).
absl::Status InvalidParameterError(std::string_view name, std::string_view value,
                                   std::string_view reason);

// InvalidArgument for an object of the wrong kind:
// "expected a Pod, got a Job named pg1-initdb".
absl::Status WrongKindError(std::string_view expected_kind, const Object& got);

// NotFound for a WAL file missing from the archive (the convention the
// WAL Restore callers and tools expect): "WAL file <name> not found in
// <where>".
absl::Status WalNotFoundError(std::string_view wal_name, std::string_view where);

// Unavailable for a transient failure of a backend (object store, network):
// "<backend> unavailable: <cause>". Callers retry these later.
absl::Status BackendUnavailableError(std::string_view backend, std::string_view cause);

}  // namespace cnpgi

#endif  // CNPGI_ERRORS_H_
