// Matching collected metrics against their definitions, as the operator's
// Prometheus exporter does.
#include "cnpgi/testing/plugin_client.h"

#include <errno.h>
#include <google/protobuf/empty.pb.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <sstream>
#include <utility>

#include "absl/strings/str_join.h"
#include "cnpgi/json.h"
#include "testing/internal.h"

namespace cnpgi::testing {

// Metrics matching -------------------------------------------------------------

namespace internal {

std::string Abbreviated(std::string_view text, std::size_t limit) {
  if (text.size() <= limit) return std::string(text);
  return internal::Cat(text.substr(0, limit), "...");
}

std::vector<std::string> CheckMetricDefinitions(const metrics::v1::DefineMetricsResult& defined) {
  std::vector<std::string> problems;
  std::set<std::string> names;
  for (int i = 0; i < defined.metrics_size(); ++i) {
    const auto& m = defined.metrics(i);
    const std::string which = m.fq_name().empty() ? internal::Cat("definition ", i)
                                                  : internal::Cat("metric \"", m.fq_name(), "\"");
    if (!IsMetricName(m.fq_name())) {
      problems.push_back(internal::Cat(which, ": \"", m.fq_name(),
                                       "\" is not a valid Prometheus name "
                                       "([a-zA-Z_:][a-zA-Z0-9_:]*)"));
    }
    if (!names.insert(m.fq_name()).second) {
      problems.push_back(internal::Cat(which, " is defined twice"));
    }
    if (!m.has_value_type()) {
      problems.push_back(internal::Cat(
          which, " has no value_type (the instance manager dereferences it: a crash)"));
    } else if (m.value_type().type() == metrics::v1::MetricType::TYPE_UNSPECIFIED) {
      problems.push_back(internal::Cat(
          which, " has value_type TYPE_UNSPECIFIED (Prometheus needs COUNTER, GAUGE or UNTYPED)"));
    } else if (!metrics::v1::MetricType::Type_IsValid(m.value_type().type())) {
      problems.push_back(internal::Cat(which, " has an unknown value_type ",
                                       static_cast<int>(m.value_type().type())));
    }
    std::set<std::string> labels;
    for (const auto& label : m.variable_labels()) {
      if (!IsLabelName(label)) {
        problems.push_back(
            internal::Cat(which, ": \"", label, "\" is not a valid Prometheus label name"));
      }
      if (!labels.insert(label).second) {
        problems.push_back(internal::Cat(which, ": label \"", label, "\" is listed twice"));
      }
    }
    for (const auto& [label, value] : m.const_labels()) {
      if (!IsLabelName(label)) {
        problems.push_back(
            internal::Cat(which, ": \"", label, "\" is not a valid Prometheus label name"));
      }
      if (labels.count(label) > 0) {
        problems.push_back(
            internal::Cat(which, ": label \"", label, "\" is both variable and constant"));
      }
    }
  }
  return problems;
}

}  // namespace internal

absl::StatusOr<std::vector<MetricSample>> MatchMetrics(
    const metrics::v1::DefineMetricsResult& definitions,
    const metrics::v1::CollectMetricsResult& samples) {
  std::vector<std::string> problems = internal::CheckMetricDefinitions(definitions);
  std::map<std::string, const metrics::v1::Metric*> by_name;
  std::vector<std::string> names;
  for (const auto& m : definitions.metrics()) {
    if (by_name.emplace(m.fq_name(), &m).second) names.push_back(m.fq_name());
  }
  std::vector<MetricSample> out;
  for (int i = 0; i < samples.metrics_size(); ++i) {
    const auto& s = samples.metrics(i);
    auto it = by_name.find(s.fq_name());
    if (it == by_name.end()) {
      problems.push_back(internal::Cat(
          "collected sample ", i, " \"", s.fq_name(), "\" has no definition (Define answered ",
          names.empty() ? std::string("none") : absl::StrJoin(names, ", "), ")"));
      continue;
    }
    const metrics::v1::Metric& d = *it->second;
    if (s.variable_labels_size() != d.variable_labels_size()) {
      problems.push_back(internal::Cat(
          "collected sample ", i, " \"", s.fq_name(), "\" has ", s.variable_labels_size(),
          " label values, its definition has ", d.variable_labels_size(), " label names (",
          absl::StrJoin(d.variable_labels(), ", "), ")"));
      continue;
    }
    MetricSample sample;
    sample.name = s.fq_name();
    sample.type = d.value_type().type();
    sample.value = s.value();
    for (int l = 0; l < d.variable_labels_size(); ++l) {
      sample.labels[d.variable_labels(l)] = s.variable_labels(l);
    }
    for (const auto& [k, v] : d.const_labels()) sample.labels[k] = v;
    out.push_back(std::move(sample));
  }
  if (!problems.empty()) {
    return absl::FailedPreconditionError(absl::StrJoin(problems, "; "));
  }
  return out;
}

}  // namespace cnpgi::testing
