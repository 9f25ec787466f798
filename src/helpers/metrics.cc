#include "cnpgi/metrics.h"

#include <algorithm>
#include <set>

#include "base/prometheus_names.h"
#include "helpers/internal.h"

namespace cnpgi {
namespace {

using internal::Cat;

metrics::v1::MetricType::Type ToProto(MetricType type) {
  switch (type) {
    case MetricType::kCounter:
      return metrics::v1::MetricType::TYPE_COUNTER;
    case MetricType::kGauge:
      return metrics::v1::MetricType::TYPE_GAUGE;
    case MetricType::kUntyped:
      return metrics::v1::MetricType::TYPE_UNTYPED;
  }
  return metrics::v1::MetricType::TYPE_UNTYPED;
}

std::string LabelList(const std::vector<std::string>& names) {
  std::string out = "[";
  for (std::size_t i = 0; i < names.size(); ++i) out += Cat(i > 0 ? ", " : "", names[i]);
  return out + "]";
}

}  // namespace

absl::StatusOr<Metric> MetricRegistry::Add(MetricDefinition definition) {
  if (!internal::IsMetricName(definition.name)) {
    return absl::InvalidArgumentError(Cat(
        "invalid metric name \"", internal::IsValidUtf8(definition.name) ? definition.name : "?",
        "\": it must match [a-zA-Z_:][a-zA-Z0-9_:]*"));
  }
  if (!internal::IsValidUtf8(definition.help)) {
    return absl::InvalidArgumentError(
        Cat("metric ", definition.name, ": help text is not valid UTF-8"));
  }
  std::set<std::string_view> labels;
  auto check_label = [&](const std::string& label) -> absl::Status {
    if (!internal::IsLabelName(label)) {
      return absl::InvalidArgumentError(
          Cat("metric ", definition.name, ": invalid label name \"",
              internal::IsValidUtf8(label) ? label : "?",
              "\": it must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __"));
    }
    if (!labels.insert(label).second) {
      return absl::InvalidArgumentError(
          Cat("metric ", definition.name, ": label ", label, " is declared twice"));
    }
    return absl::OkStatus();
  };
  for (const std::string& label : definition.label_names) {
    if (absl::Status s = check_label(label); !s.ok()) return s;
  }
  for (const auto& [label, value] : definition.const_labels) {
    if (absl::Status s = check_label(label); !s.ok()) return s;
    if (!internal::IsValidUtf8(value)) {
      return absl::InvalidArgumentError(
          Cat("metric ", definition.name, ": value of label ", label, " is not valid UTF-8"));
    }
  }
  for (const auto& existing : metrics_) {
    if (existing->name == definition.name) {
      return absl::AlreadyExistsError(Cat("metric ", definition.name, " is already declared"));
    }
  }
  auto shared = std::make_shared<const MetricDefinition>(std::move(definition));
  metrics_.push_back(shared);
  return Metric(std::move(shared));
}

void MetricRegistry::Define(metrics::v1::DefineMetricsResult& result) const {
  result.mutable_metrics()->Reserve(static_cast<int>(metrics_.size()));
  for (const auto& definition : metrics_) {
    metrics::v1::Metric& metric = *result.add_metrics();
    metric.set_fq_name(definition->name);
    metric.set_help(definition->help);
    for (const std::string& label : definition->label_names) metric.add_variable_labels(label);
    for (const auto& [label, value] : definition->const_labels) {
      (*metric.mutable_const_labels())[label] = value;
    }
    metric.mutable_value_type()->set_type(ToProto(definition->type));
  }
}

absl::Status MetricRegistry::Check(const metrics::v1::CollectMetricsResult& result) const {
  for (int i = 0; i < result.metrics_size(); ++i) {
    const metrics::v1::CollectMetric& sample = result.metrics(i);
    auto it = std::find_if(metrics_.begin(), metrics_.end(),
                           [&](const auto& d) { return d->name == sample.fq_name(); });
    if (it == metrics_.end()) {
      return absl::InvalidArgumentError(
          Cat("sample ", i, " names metric \"", sample.fq_name(), "\", which is not declared"));
    }
    if (static_cast<std::size_t>(sample.variable_labels_size()) != (*it)->label_names.size()) {
      return absl::InvalidArgumentError(
          Cat("sample ", i, " of metric ", sample.fq_name(), " has ", sample.variable_labels_size(),
              " label values for the labels ", LabelList((*it)->label_names)));
    }
  }
  return absl::OkStatus();
}

template <typename Values>
absl::Status Metric::CollectValues(metrics::v1::CollectMetricsResult& result, double value,
                                   const Values& label_values) const {
  const std::size_t count =
      static_cast<std::size_t>(std::distance(label_values.begin(), label_values.end()));
  if (count != definition_->label_names.size()) {
    return absl::InvalidArgumentError(Cat("metric ", definition_->name, " takes ",
                                          definition_->label_names.size(), " label values ",
                                          LabelList(definition_->label_names), ", got ", count));
  }
  for (const auto& label_value : label_values) {
    if (!internal::IsValidUtf8(label_value)) {
      return absl::InvalidArgumentError(
          Cat("metric ", definition_->name, ": a label value is not valid UTF-8"));
    }
  }
  metrics::v1::CollectMetric& sample = *result.add_metrics();
  sample.set_fq_name(definition_->name);
  sample.set_value(value);
  for (const auto& label_value : label_values) {
    sample.add_variable_labels(std::string(label_value));
  }
  return absl::OkStatus();
}

absl::Status Metric::Collect(metrics::v1::CollectMetricsResult& result, double value,
                             std::initializer_list<std::string_view> label_values) const {
  return CollectValues(result, value, label_values);
}

absl::Status Metric::Collect(metrics::v1::CollectMetricsResult& result, double value,
                             const std::vector<std::string>& label_values) const {
  return CollectValues(result, value, label_values);
}

}  // namespace cnpgi
