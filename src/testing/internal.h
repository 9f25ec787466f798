// Not part of the API: pieces shared by the client, the kit and the checks.
#ifndef CNPGI_SRC_TESTING_INTERNAL_H_
#define CNPGI_SRC_TESTING_INTERNAL_H_

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cnpgi/metrics/v1/metrics.pb.h"
#include "cnpgi/testing/plugin_client.h"

namespace grpc {
class Channel;
}  // namespace grpc

namespace cnpgi::testing::internal {

// absl::StrCat without its string_view trap: Debian's Abseil has its own
// absl::string_view, which does not accept std::string_view.
inline void AppendPiece(std::string& out, std::string_view piece) { out.append(piece); }
#ifndef ABSL_USES_STD_STRING_VIEW
inline void AppendPiece(std::string& out, absl::string_view piece) {
  out.append(piece.data(), piece.size());
}
#endif
inline void AppendPiece(std::string& out, const char* piece) { out.append(piece); }
inline void AppendPiece(std::string& out, const std::string& piece) { out.append(piece); }
template <class T>
requires(std::is_integral_v<T> && !std::is_same_v<T, char> &&
         !std::is_same_v<T, bool>) void AppendPiece(std::string& out, T value) {
  out.append(std::to_string(value));
}

template <class... Pieces>
std::string Cat(const Pieces&... pieces) {
  std::string out;
  (AppendPiece(out, pieces), ...);
  return out;
}
template <class... Pieces>
void Append(std::string* out, const Pieces&... pieces) {
  (AppendPiece(*out, pieces), ...);
}

enum class ChannelSecurity {
  kMutualTls,      // what the operator does (TCP); Unix is always plaintext
  kServerOnlyTls,  // TLS without a client certificate (transport checks)
  kPlaintext,      // plaintext TCP (transport checks)
};

// A channel of its own (not shared with other channels) to `endpoint`.
absl::StatusOr<std::shared_ptr<grpc::Channel>> MakeChannel(const Endpoint& endpoint,
                                                           const ClientOptions& options,
                                                           ChannelSecurity security);

// One unary call with the deadline of `options`; the error message starts
// with the method and, for an unreachable Unix socket, says why.
absl::Status RawCall(const std::shared_ptr<grpc::Channel>& channel, const Endpoint& endpoint,
                     const ClientOptions& options, std::string_view method,
                     const std::string& request, std::string* response);

// Why a Unix socket cannot be reached, or "" when something listens there.
std::string DiagnoseUnixSocket(const std::string& path);

// The host of host:port ("[v6]:port" gives v6), and whether it is an IP.
std::string HostOf(const std::string& address);
bool IsIpLiteral(const std::string& host);

// "1.5s", "120ms".
std::string DurationText(absl::Duration d);

// `text` cut to `limit` bytes with "..." appended when longer.
std::string Abbreviated(std::string_view text, std::size_t limit = 80);

bool IsMetricName(std::string_view name);
bool IsLabelName(std::string_view name);
// Problems of a Define answer, each naming the metric.
std::vector<std::string> CheckMetricDefinitions(const metrics::v1::DefineMetricsResult& defined);

}  // namespace cnpgi::testing::internal

#endif  // CNPGI_SRC_TESTING_INTERNAL_H_
