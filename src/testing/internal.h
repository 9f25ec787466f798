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
#include "base/prometheus_names.h"
#include "base/strings.h"
#include "cnpgi/metrics/v1/metrics.pb.h"
#include "cnpgi/testing/plugin_client.h"

namespace grpc {
class Channel;
}  // namespace grpc

namespace cnpgi::test::internal {

// The method path of a service's GetCapabilities.
std::string_view CapabilitiesMethodOf(Service service);
// Services with a GetCapabilities, in the order the operator asks them
// during its handshake (SEMANTICS 2.1).
const std::vector<Service>& HandshakeOrder();

using cnpgi::internal::Append;
using cnpgi::internal::Cat;
using cnpgi::internal::IsLabelName;
using cnpgi::internal::IsMetricName;

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

// Problems of a Define answer, each naming the metric.
std::vector<std::string> CheckMetricDefinitions(const metrics::v1::DefineMetricsResult& defined);

}  // namespace cnpgi::test::internal

#endif  // CNPGI_SRC_TESTING_INTERNAL_H_
