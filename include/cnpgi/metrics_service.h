// Metrics: plugin metrics exported through the instance's Prometheus endpoint.
#ifndef CNPGI_METRICS_SERVICE_H_
#define CNPGI_METRICS_SERVICE_H_

#include "absl/status/status.h"
#include "cnpgi/call_context.h"
#include "cnpgi/cluster.h"
#include "cnpgi/metrics.h"
#include "cnpgi/metrics/v1/metrics.pb.h"

namespace cnpgi {

// Called by the instance manager's metrics exporter on every Prometheus
// scrape, over the Unix socket of a sidecar: Define, then Collect.
//
// The simple way: declare every metric once in a MetricRegistry (metrics.h),
// return it from DeclaredMetrics(), and fill values in OnCollect(); the SDK
// answers Define from the registry and checks every Collect answer against
// it. Or override the raw Define and Collect. Either way both must be
// served. Handlers may be called from several threads at once.
class MetricsService {
 public:
  using DefineRequest = metrics::v1::DefineMetricsRequest;
  using DefineResult = metrics::v1::DefineMetricsResult;
  using CollectRequest = metrics::v1::CollectMetricsRequest;
  using CollectResult = metrics::v1::CollectMetricsResult;

  virtual ~MetricsService() = default;

  // The metrics this plugin exports, declared once; must outlive the server.
  virtual const MetricRegistry* DeclaredMetrics() const { return nullptr; }

  // Append the current values with Metric::Collect().
  virtual absl::Status OnCollect(CallContext& ctx, const Cluster& cluster, CollectResult& result);

  // The raw forms. By default Define answers from DeclaredMetrics(), and
  // Collect calls OnCollect and checks its answer against the declarations.

  // Describe every metric: a valid Prometheus name, help, label names and
  // a value type (always set).
  virtual absl::Status Define(CallContext& ctx, const DefineRequest& request, DefineResult& result);

  // The current values, matched to the definitions by name, with one label
  // value per defined label name, in order.
  virtual absl::Status Collect(CallContext& ctx, const CollectRequest& request,
                               CollectResult& result);
};

}  // namespace cnpgi

#endif  // CNPGI_METRICS_SERVICE_H_
