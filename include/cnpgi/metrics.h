// Plugin metrics: declare each metric once, answer Define and Collect from
// that one declaration.
//
// The instance manager calls Define then Collect on every Prometheus scrape
// and matches each collected sample to a definition by name; an unknown
// name, a wrong number of label values or a definition without value_type
// breaks the scrape's plugin metrics. Declaring once makes those mistakes
// impossible or caught here, with a message.
//
//   // At startup:
//   cnpgi::MetricRegistry registry;
//   cnpgi::Metric archived = *registry.Add({.name = "example_wal_archived_total",
//                                           .help = "WAL segments archived",
//                                           .type = cnpgi::MetricType::kCounter,
//                                           .label_names = {"destination"}});
//   // In Define:  registry.Define(result);
//   // In Collect: if (absl::Status s = archived.Collect(result, count, {"s3"}); !s.ok()) ...
//
// Thread safety: Add before serving; everything else is const and may run
// concurrently.
#ifndef CNPGI_METRICS_H_
#define CNPGI_METRICS_H_

#include <cstddef>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <cnpgi/metrics/v1/metrics.pb.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cnpgi {

enum class MetricType { kCounter, kGauge, kUntyped };

struct MetricDefinition {
  // Full Prometheus name, used verbatim: [a-zA-Z_:][a-zA-Z0-9_:]*.
  std::string name{};
  std::string help{};
  MetricType type = MetricType::kGauge;
  // Names of the labels whose values each sample gives, in order.
  std::vector<std::string> label_names{};
  // Labels with fixed values.
  std::map<std::string, std::string> const_labels{};
};

// A declared metric. Cheap to copy; keeps its definition alive.
class Metric {
 public:
  const std::string& name() const { return definition_->name; }
  std::size_t label_count() const { return definition_->label_names.size(); }
  const MetricDefinition& definition() const { return *definition_; }

  // Appends one sample to a Collect answer. InvalidArgument, naming the
  // metric and its label names, when the number of label values differs from
  // the number of label names, or a value is not valid UTF-8; nothing is
  // appended then.
  absl::Status Collect(metrics::v1::CollectMetricsResult& result, double value,
                       std::initializer_list<std::string_view> label_values = {}) const;
  absl::Status Collect(metrics::v1::CollectMetricsResult& result, double value,
                       const std::vector<std::string>& label_values) const;

 private:
  friend class MetricRegistry;
  explicit Metric(std::shared_ptr<const MetricDefinition> definition)
      : definition_(std::move(definition)) {}
  template <typename Values>
  absl::Status CollectValues(metrics::v1::CollectMetricsResult& result, double value,
                             const Values& label_values) const;

  std::shared_ptr<const MetricDefinition> definition_;
};

class MetricRegistry {
 public:
  // Declares a metric. InvalidArgument for an invalid metric or label name
  // (including the reserved "__" prefix), a label named twice or both
  // variable and constant, text that is not valid UTF-8; AlreadyExists for a
  // name declared before.
  absl::StatusOr<Metric> Add(MetricDefinition definition);

  // The Define answer: every metric in declaration order, value_type set.
  void Define(metrics::v1::DefineMetricsResult& result) const;

  // Checks a Collect answer built by other means: every sample must name a
  // declared metric and carry one value per label name.
  absl::Status Check(const metrics::v1::CollectMetricsResult& result) const;

  std::size_t size() const { return metrics_.size(); }

 private:
  std::vector<std::shared_ptr<const MetricDefinition>> metrics_;
};

}  // namespace cnpgi

#endif  // CNPGI_METRICS_H_
