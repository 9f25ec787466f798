// Not part of the API. Prometheus' rules for metric and label names, for the
// SDK's metric definitions (helpers/metrics.cc) and the conformance checks
// (testing/metrics_matching.cc). See base/strings.h for what src/base/ is.
#ifndef CNPGI_SRC_BASE_PROMETHEUS_NAMES_H_
#define CNPGI_SRC_BASE_PROMETHEUS_NAMES_H_

#include <string_view>

namespace cnpgi::internal {

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool IsMetricName(std::string_view name);

// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved for Prometheus).
bool IsLabelName(std::string_view name);

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_BASE_PROMETHEUS_NAMES_H_
