#include "hello_world.h"

#include <initializer_list>
#include <memory>
#include <utility>

namespace hello_world {
namespace {

using nlohmann::json;

// Concatenation that GCC 12 does not misreport at -O3 (its -Wrestrict false
// positive on `"literal" + std::string`), and that takes std::string_view
// (Debian's absl::StrCat does not: its absl::string_view is its own type).
std::string Cat(std::initializer_list<std::string_view> parts) {
  std::size_t size = 0;
  for (std::string_view p : parts) size += p.size();
  std::string out;
  out.reserve(size);
  for (std::string_view p : parts) out.append(p);
  return out;
}

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// A Kubernetes name segment: 1-63 characters, alphanumeric at both ends,
// '-', '_' and '.' inside. Empty when valid, the reason otherwise.
std::string CheckNameSegment(std::string_view name) {
  if (name.empty()) return "the name part is empty";
  if (name.size() > 63) return "the name part is longer than 63 characters";
  if (!IsAlnum(name.front()) || !IsAlnum(name.back())) {
    return "the name part must start and end with a letter or digit";
  }
  for (char c : name) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') {
      return "the name part may only hold letters, digits, '-', '_' and '.'";
    }
  }
  return "";
}

// A DNS subdomain (the optional prefix of a label or annotation key).
std::string CheckPrefix(std::string_view prefix) {
  if (prefix.empty() || prefix.size() > 253) return "the prefix must be 1 to 253 characters";
  auto lower_alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_alnum(prefix.front()) || !lower_alnum(prefix.back())) {
    return "the prefix must start and end with a lowercase letter or digit";
  }
  for (char c : prefix) {
    if (!lower_alnum(c) && c != '-' && c != '.') {
      return "the prefix must be a DNS subdomain (lowercase letters, digits, '-' and '.')";
    }
  }
  if (prefix == "cnpg.io" ||
      (prefix.size() > 8 && prefix.substr(prefix.size() - 8) == ".cnpg.io")) {
    return "the prefix cnpg.io is reserved for CloudNativePG";
  }
  return "";
}

// A label or annotation key: [prefix/]name.
std::string CheckKey(std::string_view key) {
  std::string_view name = key;
  if (std::size_t slash = key.find('/'); slash != std::string_view::npos) {
    if (std::string why = CheckPrefix(key.substr(0, slash)); !why.empty()) return why;
    name = key.substr(slash + 1);
  }
  return CheckNameSegment(name);
}

// Reads a parameter holding a JSON object of strings into `out`, checking
// keys (and, for labels, values) as Kubernetes does. Keys and values in the
// messages go through cnpgi::QuoteValue: they come from the user, may be of
// any size, and an error must always fit in the answer.
void ReadStringMap(const cnpgi::Parameters& p, std::string_view name, std::string_view fallback,
                   bool label_values, cnpgi::ValidationErrors& errors,
                   std::map<std::string, std::string>& out) {
  std::optional<json> value;
  if (p.contains(name)) {
    value = p.GetJson(name, errors, {.object = true});
    if (!value) return;  // GetJson said what is wrong
  } else {
    absl::StatusOr<json> parsed = cnpgi::ParseJson(fallback);
    if (!parsed.ok()) return;  // the defaults are valid JSON
    value = std::move(*parsed);
  }
  for (const auto& [key, item] : value->items()) {
    if (!item.is_string()) {
      errors.Add(p.Error(name, Cat({"the value of ", cnpgi::QuoteValue(key),
                                    " must be a string, got ", cnpgi::JsonTypeName(item)})));
      continue;
    }
    if (std::string why = CheckKey(key); !why.empty()) {
      errors.Add(p.Error(name, Cat({"invalid key ", cnpgi::QuoteValue(key), ": ", why})));
      continue;
    }
    const std::string& text = item.get_ref<const std::string&>();
    if (label_values && !text.empty()) {
      if (std::string why = CheckNameSegment(text); !why.empty()) {
        errors.Add(p.Error(
            name, Cat({"invalid value ", cnpgi::QuoteValue(text), " of ", cnpgi::QuoteValue(key),
                       ": a label value is empty or a name (", why, ")"})));
        continue;
      }
    }
    out.emplace(key, text);
  }
}

}  // namespace

std::optional<Configuration> ReadConfiguration(const cnpgi::PluginConfiguration& entry,
                                               cnpgi::ValidationErrors& errors) {
  const cnpgi::Parameters p = entry.parameters();
  const std::size_t before = errors.size();
  p.RejectUnknown({kLabels, kAnnotations, kImagePullPolicy}, errors);
  Configuration config;
  ReadStringMap(p, kLabels, kDefaultLabels, /*label_values=*/true, errors, config.labels);
  ReadStringMap(p, kAnnotations, kDefaultAnnotations, /*label_values=*/false, errors,
                config.annotations);
  config.image_pull_policy = std::string(
      p.GetString(kImagePullPolicy, errors, {.one_of = {"Always", "IfNotPresent", "Never"}})
          .value_or(kDefaultImagePullPolicy));
  if (errors.size() != before) return std::nullopt;
  return config;
}

// Operator ------------------------------------------------------------------

absl::Status HelloOperator::OnValidateClusterCreate(cnpgi::CallContext& ctx,
                                                    const cnpgi::Cluster& cluster,
                                                    cnpgi::ValidationErrors& errors) {
  absl::StatusOr<cnpgi::PluginConfiguration> entry = cluster.GetPlugin(ctx.plugin_name());
  if (!entry.ok()) return entry.status();
  ReadConfiguration(*entry, errors);
  return absl::OkStatus();
}

absl::Status HelloOperator::OnValidateClusterChange(cnpgi::CallContext& ctx,
                                                    const cnpgi::Cluster& old_cluster,
                                                    const cnpgi::Cluster& new_cluster,
                                                    cnpgi::ValidationErrors& errors) {
  if (absl::Status s = OnValidateClusterCreate(ctx, new_cluster, errors); !s.ok()) return s;
  // The labels are fixed once the Cluster exists: other objects (Services,
  // network policies, monitoring) may select the Pods by them. Compared with
  // their defaults applied, so that writing the default out is no change.
  std::optional<cnpgi::PluginConfiguration> old_entry = old_cluster.FindPlugin(ctx.plugin_name());
  std::optional<cnpgi::PluginConfiguration> new_entry = new_cluster.FindPlugin(ctx.plugin_name());
  if (!old_entry || !new_entry) return absl::OkStatus();  // the plugin is being added or removed
  cnpgi::ValidationErrors ignored;
  std::optional<Configuration> before = ReadConfiguration(*old_entry, ignored);
  std::optional<Configuration> after = ReadConfiguration(*new_entry, ignored);
  if (before && after && before->labels != after->labels) {
    const std::string was(old_entry->parameters().Get(kLabels).value_or(kDefaultLabels));
    errors.Add(new_entry->parameters().Error(
        kLabels,
        Cat({"cannot be changed once the Cluster exists (it was ", cnpgi::QuoteValue(was), ")"})));
  }
  return absl::OkStatus();
}

absl::Status HelloOperator::OnMutateCluster(cnpgi::CallContext& ctx, cnpgi::Cluster& cluster) {
  absl::StatusOr<cnpgi::PluginConfiguration> entry = cluster.GetPlugin(ctx.plugin_name());
  if (!entry.ok()) return entry.status();
  // Decide first: the entry is a view into the Cluster, edits invalidate it.
  std::vector<std::pair<std::string_view, std::string_view>> defaults;
  for (auto [name, value] :
       {std::pair{kLabels, kDefaultLabels}, std::pair{kAnnotations, kDefaultAnnotations},
        std::pair{kImagePullPolicy, kDefaultImagePullPolicy}}) {
    if (!entry->parameters().contains(name)) defaults.emplace_back(name, value);
  }
  for (auto [name, value] : defaults) {
    if (absl::Status s = cluster.SetPluginParameter(ctx.plugin_name(), name, value); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<nlohmann::json>> HelloOperator::OnSetStatusInCluster(
    cnpgi::CallContext& ctx, const cnpgi::Cluster& cluster) {
  std::optional<cnpgi::PluginStatus> entry = cluster.FindPluginStatus(ctx.plugin_name());
  if (!entry) {
    return absl::FailedPreconditionError(
        Cat({"Cluster ", cluster.name(), " has no status.pluginStatus entry for ",
             ctx.plugin_name(), " (the operator records one for each loaded plugin)"}));
  }
  // Every non-empty answer makes the operator reconcile the Cluster again
  // 5 s later: answer only when the status is not recorded yet.
  absl::StatusOr<std::optional<json>> recorded = cnpgi::ParseClusterStatus(entry->status);
  if (recorded.ok() && recorded->has_value()) {
    const json& status = **recorded;
    auto enabled = status.find("enabled");
    if (enabled != status.end() && enabled->is_boolean() && enabled->get<bool>()) {
      return std::optional<json>();
    }
  }
  return std::optional<json>(json{{"enabled", true}});
}

// Lifecycle -----------------------------------------------------------------

std::vector<cnpgi::LifecycleSubscription> HelloLifecycle::Subscriptions() const {
  return {
      {.group = "",
       .kind = "Pod",
       .operations = {cnpgi::LifecycleOperation::kCreate, cnpgi::LifecycleOperation::kEvaluate}}};
}

absl::Status HelloLifecycle::OnLifecycle(cnpgi::CallContext& ctx, const cnpgi::Cluster& cluster,
                                         cnpgi::Object& object, cnpgi::LifecycleOperation) {
  if (object.kind() != "Pod") return cnpgi::WrongKindError("Pod", object);
  absl::StatusOr<cnpgi::PluginConfiguration> entry = cluster.GetPlugin(ctx.plugin_name());
  if (!entry.ok()) return entry.status();
  // The validation calls are not made by today's operator: refuse a bad
  // configuration here, with the same messages.
  cnpgi::ValidationErrors errors;
  std::optional<Configuration> config = ReadConfiguration(*entry, errors);
  if (!config) return errors.ToStatus();

  // Same input, same output, and nothing changes the second time: the
  // operator runs EVALUATE then CREATE on its result, and compares EVALUATE
  // results to decide whether Pods must be restarted. std::map iterates in
  // key order, and setting a label to the value it has is no change.
  for (const auto& [key, value] : config->labels) {
    if (absl::Status s = object.SetLabel(key, value); !s.ok()) return s;
  }
  for (const auto& [key, value] : config->annotations) {
    if (absl::Status s = object.SetAnnotation(key, value); !s.ok()) return s;
  }
  cnpgi::SidecarOptions sidecar;
  sidecar.container = {{"name", kSidecarName},
                       {"image", kSidecarImage},
                       {"imagePullPolicy", config->image_pull_policy},
                       {"securityContext",
                        {{"allowPrivilegeEscalation", false},
                         {"readOnlyRootFilesystem", true},
                         {"runAsNonRoot", true},
                         {"capabilities", {{"drop", {"ALL"}}}},
                         {"seccompProfile", {{"type", "RuntimeDefault"}}}}}};
  return cnpgi::InjectSidecar(object, sidecar);
}

// Serving -------------------------------------------------------------------

cnpgi::PluginMetadata Metadata() {
  cnpgi::PluginMetadata m;
  m.name = std::string(kPluginName);
  m.version = std::string(kVersion);
  m.display_name = "Hello world (C++)";
  m.description =
      "Validates its parameters, labels and annotates instance Pods and injects a "
      "sidecar: the CNPG-I hello world, written with cnpgi-cpp";
  m.license = "Apache-2.0";
  m.maturity = "example";
  return m;
}

cnpgi::PluginServer MakeServer() {
  cnpgi::PluginServer server(Metadata());
  server.Add(std::make_shared<HelloOperator>()).Add(std::make_shared<HelloLifecycle>());
  return server;
}

}  // namespace hello_world
