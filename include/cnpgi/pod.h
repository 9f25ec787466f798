// Views of the Pods and Jobs that lifecycle hooks receive.
//
// An instance Pod's main container is `postgres`, its first init container
// `bootstrap-controller`; a Job's pod template (spec.template.spec) has one
// main container named after the job role (`initdb`, `full-recovery`, ...),
// the role also being the pod template label `cnpg.io/jobRole`.
#ifndef CNPGI_POD_H_
#define CNPGI_POD_H_

#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "cnpgi/object.h"

namespace cnpgi {

// Read-only view of a PodSpec. Valid while the object is alive and not
// edited there.
class PodSpecView {
 public:
  // `spec` may be nullptr (then everything is empty).
  explicit PodSpecView(const nlohmann::json* spec) : spec_(spec) {}

  // The lists, as JSON arrays (empty arrays when absent).
  const nlohmann::json& containers() const;
  const nlohmann::json& init_containers() const;
  const nlohmann::json& volumes() const;

  // Entries by name, or nullptr.
  const nlohmann::json* FindContainer(std::string_view name) const;
  const nlohmann::json* FindInitContainer(std::string_view name) const;
  const nlohmann::json* FindVolume(std::string_view name) const;

  std::vector<std::string_view> container_names() const;
  std::vector<std::string_view> init_container_names() const;

  // The PodSpec itself, or nullptr.
  const nlohmann::json* json() const { return spec_; }

 private:
  const nlohmann::json* spec_;
};

class Pod : public Object {
 public:
  static constexpr std::string_view kApiVersion = "v1";
  static constexpr std::string_view kKind = "Pod";

  // Lenient / strict kind checks as Cluster::Parse; the PodSpec lists
  // (containers, initContainers, volumes and each container's env and
  // volumeMounts) must be arrays of objects with string names.
  static absl::StatusOr<Pod> Parse(std::string_view text, const JsonLimits& limits = {});
  static absl::StatusOr<Pod> ParseStrict(std::string_view text, const JsonLimits& limits = {});
  static absl::StatusOr<Pod> FromObject(Object object);

  PodSpecView spec() const;

 private:
  explicit Pod(Object object) : Object(std::move(object)) {}
};

class Job : public Object {
 public:
  static constexpr std::string_view kApiVersion = "batch/v1";
  static constexpr std::string_view kKind = "Job";

  static absl::StatusOr<Job> Parse(std::string_view text, const JsonLimits& limits = {});
  static absl::StatusOr<Job> ParseStrict(std::string_view text, const JsonLimits& limits = {});
  static absl::StatusOr<Job> FromObject(Object object);

  // spec.template.spec.
  PodSpecView pod_spec() const;
  // The pod template label cnpg.io/jobRole (or the Job's own label), such
  // as "full-recovery"; "" when absent.
  std::string_view job_role() const;

 private:
  explicit Job(Object object) : Object(std::move(object)) {}
};

// The RFC 6901 pointer of the PodSpec inside `object`: "/spec" for a Pod,
// "/spec/template/spec" for a Job (and the other pod-template kinds:
// Deployment, StatefulSet, DaemonSet, ReplicaSet); InvalidArgument for other
// kinds.
absl::StatusOr<std::string_view> PodSpecPointer(const Object& object);

// Shape checks of a PodSpec at `pointer`, as Pod::Parse does them; for
// objects parsed as plain Objects.
absl::Status CheckPodSpec(const Object& object, std::string_view pointer);

}  // namespace cnpgi

#endif  // CNPGI_POD_H_
