// Typed reading of plugin parameters.
//
// A plugin's configuration is a map of strings in the Cluster
// (spec.plugins[i].parameters, spec.externalClusters[j].plugin.parameters) or
// the Backup (spec.pluginConfiguration.parameters). Parameters reads it with
// types and rules, and reports each bad value as a ValidationError whose path
// is the one the operator shows users, e.g.
// ["spec", "plugins", "1", "parameters", "retention"], with the offending
// value:
//
//   cnpgi::ValidationErrors errors;
//   cnpgi::Parameters p = plugin.parameters();
//   std::string_view bucket = p.GetString("bucket", errors, {.required = true}).value_or("");
//   int64_t jobs = p.GetInt("jobs", errors, {.min = 1, .max = 16}).value_or(2);
//   absl::Duration every = p.GetDuration("interval", errors).value_or(absl::Minutes(5));
//   p.RejectUnknown({"bucket", "jobs", "interval"}, errors);
//   if (!errors.empty()) return errors.ToStatus();   // or errors.AppendTo(result)
//
// Each Get* returns the value when present and valid, nullopt when absent or
// invalid; an invalid value (or a missing required one) also adds an error.
// Returned string_views point into the parsed object: keep it alive.
#ifndef CNPGI_PARAMETERS_H_
#define CNPGI_PARAMETERS_H_

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cnpgi/json.h"
#include "cnpgi/object.h"
#include "cnpgi/validation.h"

namespace cnpgi {

// A Kubernetes resource quantity: "10Gi", "500M", "1.5", "100m", "2e3".
// Suffixes: binary Ki Mi Gi Ti Pi Ei; decimal n u m k M G T P E; or a
// decimal exponent e<n>/E<n>. At most 18 significant digits.
class Quantity {
 public:
  // InvalidArgument naming the text and what is wrong.
  static absl::StatusOr<Quantity> Parse(std::string_view text);

  // The value rounded up (away from zero) to an integer, as Kubernetes'
  // Quantity.Value(): "10Gi" is 10737418240, "100m" is 1.
  std::int64_t value() const { return value_; }
  // The value in thousandths, rounded up; nullopt when that overflows
  // 64 bits (above about 9.2e15).
  std::optional<std::int64_t> milli_value() const { return milli_value_; }

  bool operator==(const Quantity&) const = default;

 private:
  Quantity(std::int64_t value, std::optional<std::int64_t> milli)
      : value_(value), milli_value_(milli) {}
  std::int64_t value_ = 0;
  std::optional<std::int64_t> milli_value_;
};

// The value parsers behind the Get* methods, usable on their own. Errors are
// InvalidArgument quoting the text.
//
// Booleans as Go's strconv.ParseBool: 1 t T TRUE true True, 0 f F FALSE
// false False.
absl::StatusOr<bool> ParseBool(std::string_view text);
// Decimal 64-bit integers, optional sign.
absl::StatusOr<std::int64_t> ParseInt(std::string_view text);
// Durations as Go writes them ("300ms", "1h30m", "1.5h") plus the units
// PostgreSQL and humans use ("5min", "7d"): a sequence of <number><unit>
// with units ns, us (or µs), ms, s, m or min, h, d; optional sign; "0"
// alone is zero.
absl::StatusOr<absl::Duration> ParseDuration(std::string_view text);

struct StringRules {
  bool required = false;
  bool non_empty = false;
  // When not empty, the value must be one of these. Owned strings, so that
  // the rules can be built once and kept (an initializer_list member would
  // dangle past the statement that filled it).
  std::vector<std::string> one_of = {};
};
struct BoolRules {
  bool required = false;
};
struct IntRules {
  bool required = false;
  std::optional<std::int64_t> min{};
  std::optional<std::int64_t> max{};
};
struct DurationRules {
  bool required = false;
  std::optional<absl::Duration> min{};
  std::optional<absl::Duration> max{};
};
struct QuantityRules {
  bool required = false;
  std::optional<std::int64_t> min{};  // on Quantity::value()
  std::optional<std::int64_t> max{};
};
struct JsonRules {
  bool required = false;
  // The value must be a JSON object (the common case: a map in a string).
  bool object = true;
  JsonLimits limits{};
};

// A read-only view of a parameters map plus the field path of that map.
// Cheap to copy; valid while the document it points into is alive.
class Parameters {
 public:
  // No parameters; errors get the path ["parameters", <name>].
  Parameters() : path_{"parameters"} {}
  // `map` may be nullptr (no parameters) or must be an object of strings;
  // `path` is the path of the map itself, e.g.
  // {"spec", "plugins", "1", "parameters"}.
  Parameters(const nlohmann::json* map, std::vector<std::string> path)
      : map_(map), path_(std::move(path)) {}

  bool empty() const { return map().empty(); }
  std::size_t size() const { return map().size(); }
  bool contains(std::string_view name) const { return map().contains(name); }
  // The raw value.
  std::optional<std::string_view> Get(std::string_view name) const { return map().find(name); }
  StringMapView map() const { return StringMapView(map_); }
  const std::vector<std::string>& path() const { return path_; }

  // The path of one parameter, e.g. {"spec","plugins","1","parameters","x"}.
  std::vector<std::string> PathOf(std::string_view name) const;
  // A ValidationError for parameter `name` carrying its current value, for
  // checks of your own (the equivalent of the Go helper library's
  // BuildErrorForParameter).
  ValidationError Error(std::string_view name, std::string message) const;

  std::optional<std::string_view> GetString(std::string_view name, ValidationErrors& errors,
                                            const StringRules& rules = {}) const;
  std::optional<bool> GetBool(std::string_view name, ValidationErrors& errors,
                              const BoolRules& rules = {}) const;
  std::optional<std::int64_t> GetInt(std::string_view name, ValidationErrors& errors,
                                     const IntRules& rules = {}) const;
  std::optional<absl::Duration> GetDuration(std::string_view name, ValidationErrors& errors,
                                            const DurationRules& rules = {}) const;
  std::optional<Quantity> GetQuantity(std::string_view name, ValidationErrors& errors,
                                      const QuantityRules& rules = {}) const;
  // A parameter holding JSON text, such as a map of labels.
  std::optional<nlohmann::json> GetJson(std::string_view name, ValidationErrors& errors,
                                        const JsonRules& rules = {}) const;

  // Adds an error for every parameter whose name is not in `known`
  // (typos in a Cluster otherwise go unnoticed).
  void RejectUnknown(std::initializer_list<std::string_view> known, ValidationErrors& errors) const;

 private:
  // The raw value if present; records a "required" error if missing and
  // required.
  std::optional<std::string_view> Raw(std::string_view name, bool required,
                                      ValidationErrors& errors) const;

  const nlohmann::json* map_ = nullptr;
  std::vector<std::string> path_;
};

}  // namespace cnpgi

#endif  // CNPGI_PARAMETERS_H_
