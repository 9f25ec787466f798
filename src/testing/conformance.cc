#include "cnpgi/testing/conformance.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <utility>

#include "absl/strings/str_join.h"
#include "cnpgi/json.h"
#include "testing/checks.h"
#include "testing/internal.h"

namespace cnpgi::test {

using internal::Append;
using internal::Cat;

std::string_view OutcomeName(CheckOutcome outcome) {
  switch (outcome) {
    case CheckOutcome::kPass:
      return "PASS";
    case CheckOutcome::kFail:
      return "FAIL";
    case CheckOutcome::kSkip:
      return "SKIP";
    case CheckOutcome::kWarn:
      return "WARN";
  }
  return "?";
}

const std::vector<CheckInfo>& ConformanceChecks() {
  static const std::vector<CheckInfo>* const infos = [] {
    auto* out = new std::vector<CheckInfo>;
    for (const auto& c : internal::CheckDefinitions()) out->push_back({c.name, c.description});
    return out;
  }();
  return *infos;
}

namespace {

bool Selects(const std::string& selector, const std::string& name) {
  if (selector == name) return true;
  return name.size() > selector.size() && name.compare(0, selector.size(), selector) == 0 &&
         name[selector.size()] == '.';
}

bool Selected(const ConformanceOptions& options, const std::string& name) {
  auto any = [&](const std::vector<std::string>& selectors) {
    return std::any_of(selectors.begin(), selectors.end(),
                       [&](const std::string& s) { return Selects(s, name); });
  };
  if (!options.only.empty() && !any(options.only)) return false;
  return !any(options.skip);
}

// Why GetPluginMetadata failed, for someone who has to fix the setup.
absl::Status Unreachable(const ConformanceOptions& options, const absl::Status& status) {
  const std::string where = options.endpoint.Describe();
  const bool tcp = options.endpoint.transport == Endpoint::Transport::kTcp;
  std::string message;
  switch (status.code()) {
    case absl::StatusCode::kDeadlineExceeded:
      message =
          Cat("the peer at ", where, " did not answer GetPluginMetadata within ",
              internal::DurationText(options.call_timeout), ": it accepted the connection",
              tcp ? " (or the TLS handshake never completed)" : "",
              " but is not an answering gRPC server (a hung plugin, or another kind of server)");
      break;
    case absl::StatusCode::kUnimplemented:
      message = Cat(where,
                    " is a gRPC server but not a CNPG-I plugin: it does not serve "
                    "cnpgi.identity.v1.Identity/GetPluginMetadata");
      break;
    case absl::StatusCode::kUnavailable: {
      message = Cat("cannot talk to the plugin at ", where, ": ", status.message());
      const std::string text(status.message());
      if (tcp && (text.find("Socket closed") != std::string::npos ||
                  text.find("reset by peer") != std::string::npos)) {
        Append(&message,
               " -- the plugin closed the connection after the TLS handshake: it "
               "probably does not trust --client-cert (it must be the certificate the "
               "plugin was given as its --client-cert)");
      } else if (tcp && text.find("ALPN") != std::string::npos) {
        Append(&message,
               " -- the plugin's TLS server did not select the ALPN protocol h2: the operator's "
               "grpc-go refuses such a server too (SEMANTICS 1.3); in Go, the tls.Config that "
               "GetConfigForClient returns must list NextProtos: [\"h2\"]");
      } else if (tcp &&
                 (text.find("andshake") != std::string::npos ||
                  text.find("SSL") != std::string::npos || text.find("TLS") != std::string::npos ||
                  text.find("ertificate") != std::string::npos)) {
        Append(&message,
               " -- the TLS handshake failed: check that --server-cert is the plugin's "
               "own certificate (tls.crt of its server Secret), that --server-name (",
               options.endpoint.ServerName(),
               ") is a DNS name in it, and that the plugin trusts --client-cert");
      } else if (!tcp || text.find("onnect") != std::string::npos) {
        Append(&message, " -- is the plugin running there, and is it a gRPC server?");
      }
      break;
    }
    default:
      message = Cat("GetPluginMetadata of the plugin at ", where,
                    " failed: ", absl::StatusCodeToString(status.code()), ": ", status.message());
  }
  return absl::Status(status.code(), message);
}

std::map<std::string, std::string> ReadStringMap(const nlohmann::json& value, const char* field,
                                                 absl::Status& error) {
  std::map<std::string, std::string> out;
  if (!value.is_object()) {
    error = absl::InvalidArgumentError(Cat(
        "config field \"", field, "\" must be an object of strings, not ", JsonTypeName(value)));
    return out;
  }
  for (const auto& [k, v] : value.items()) {
    if (!v.is_string()) {
      error = absl::InvalidArgumentError(
          Cat("config field \"", field, ".", k, "\" must be a string, not ", JsonTypeName(v)));
      return out;
    }
    out[k] = v.get<std::string>();
  }
  return out;
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    // Keep valid UTF-8, replace anything else (XML cannot carry it).
    std::size_t length = c < 0x80           ? 1
                         : (c >> 5) == 0x6  ? 2
                         : (c >> 4) == 0xe  ? 3
                         : (c >> 3) == 0x1e ? 4
                                            : 0;
    bool valid = length > 0 && i + length <= text.size();
    for (std::size_t k = 1; valid && k < length; ++k) {
      valid = (static_cast<unsigned char>(text[i + k]) & 0xc0) == 0x80;
    }
    if (!valid) {
      out += '?';
      ++i;
      continue;
    }
    if (length > 1) {
      out.append(text.substr(i, length));
      i += length;
      continue;
    }
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') {
          out += '?';
        } else {
          out += static_cast<char>(c);
        }
    }
    ++i;
  }
  return out;
}

std::string Seconds(absl::Duration d) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%.3f", absl::ToDoubleSeconds(d));
  return buffer;
}

}  // namespace

absl::Status ValidateCheckSelection(const std::vector<std::string>& selection) {
  std::vector<std::string> unknown;
  for (const std::string& s : selection) {
    const bool known = std::any_of(ConformanceChecks().begin(), ConformanceChecks().end(),
                                   [&](const CheckInfo& c) { return Selects(s, c.name); });
    if (!known) unknown.push_back(s);
  }
  if (unknown.empty()) return absl::OkStatus();
  std::vector<std::string> names;
  for (const auto& c : ConformanceChecks()) names.push_back(c.name);
  return absl::InvalidArgumentError(Cat("unknown check", unknown.size() > 1 ? "s " : " ",
                                        absl::StrJoin(unknown, ", "),
                                        " (checks: ", absl::StrJoin(names, ", "), ")"));
}

absl::Status ApplyConformanceConfig(std::string_view json_text, ConformanceOptions& options) {
  absl::StatusOr<nlohmann::json> config = ParseJson(json_text);
  if (!config.ok()) {
    return absl::InvalidArgumentError(Cat("the config is not JSON: ", config.status().message()));
  }
  if (!config->is_object()) {
    return absl::InvalidArgumentError(
        Cat("the config must be a JSON object, not ", JsonTypeName(*config)));
  }
  absl::Status error;
  for (const auto& [key, value] : config->items()) {
    auto want = [&](bool ok, const char* type) {
      if (!ok && error.ok()) {
        error = absl::InvalidArgumentError(
            Cat("config field \"", key, "\" must be ", type, ", not ", JsonTypeName(value)));
      }
      return ok;
    };
    auto string_list = [&](std::vector<std::string>& out) {
      if (!want(value.is_array(), "an array of strings")) return;
      out.clear();
      for (const auto& v : value) {
        if (!want(v.is_string(), "an array of strings")) return;
        out.push_back(v.get<std::string>());
      }
    };
    if (key == "pluginName") {
      if (want(value.is_string(), "a string")) options.plugin_name = value.get<std::string>();
    } else if (key == "parameters") {
      options.plugin_parameters = ReadStringMap(value, "parameters", error);
    } else if (key == "backupParameters") {
      options.backup_parameters = ReadStringMap(value, "backupParameters", error);
    } else if (key == "postgresConfiguration") {
      options.postgres_configuration = ReadStringMap(value, "postgresConfiguration", error);
    } else if (key == "cluster" || key == "pod" || key == "job" || key == "backup") {
      if (want(value.is_object(), "a Kubernetes object (a JSON object)")) {
        (key == "cluster" ? options.cluster
         : key == "pod"   ? options.pod
         : key == "job"   ? options.job
                          : options.backup) = value;
      }
    } else if (key == "walDir") {
      if (want(value.is_string(), "a string")) options.wal_dir = value.get<std::string>();
    } else if (key == "runBackup") {
      if (want(value.is_boolean(), "true or false")) options.run_backup = value.get<bool>();
    } else if (key == "runRestoreJob") {
      if (want(value.is_boolean(), "true or false")) options.run_restore_job = value.get<bool>();
    } else if (key == "only") {
      string_list(options.only);
    } else if (key == "skip") {
      string_list(options.skip);
    } else if (key == "strict") {
      if (want(value.is_boolean(), "true or false")) options.strict = value.get<bool>();
    } else {
      error = absl::InvalidArgumentError(
          Cat("unknown config field \"", key,
              "\" (known: pluginName, parameters, backupParameters, cluster, pod, job, backup, "
              "postgresConfiguration, walDir, runBackup, runRestoreJob, only, skip, strict)"));
    }
    if (!error.ok()) return error;
  }
  if (absl::Status s = ValidateCheckSelection(options.only); !s.ok()) return s;
  return ValidateCheckSelection(options.skip);
}

int ConformanceReport::passed() const {
  return static_cast<int>(std::count_if(results.begin(), results.end(), [](const auto& r) {
    return r.outcome == CheckOutcome::kPass;
  }));
}
int ConformanceReport::warned() const {
  return static_cast<int>(std::count_if(results.begin(), results.end(), [](const auto& r) {
    return r.outcome == CheckOutcome::kWarn;
  }));
}
int ConformanceReport::failed() const {
  return static_cast<int>(std::count_if(results.begin(), results.end(), [](const auto& r) {
    return r.outcome == CheckOutcome::kFail;
  }));
}
int ConformanceReport::skipped() const {
  return static_cast<int>(std::count_if(results.begin(), results.end(), [](const auto& r) {
    return r.outcome == CheckOutcome::kSkip;
  }));
}

std::string ConformanceReport::Summary() const {
  const int warnings = warned();
  return Cat(results.size(), results.size() == 1 ? " check: " : " checks: ", passed(), " passed, ",
             warnings, warnings == 1 ? " warning, " : " warnings, ", failed(), " failed, ",
             skipped(), " skipped in ", internal::DurationText(duration),
             strict && warnings > 0 ? " (--strict: warnings fail)" : "",
             timed_out ? " (the global timeout expired)" : "");
}

std::string ConformanceReport::JUnitXml() const {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  const int failures = failed() + (strict ? warned() : 0);
  const std::string counts =
      Cat("tests=\"", results.size(), "\" failures=\"", failures, "\" errors=\"0\" skipped=\"",
          skipped(), "\" time=\"", Seconds(duration), "\"");
  Append(&out, "<testsuites name=\"cnpgi-conformance\" ", counts, ">\n");
  Append(&out, "  <testsuite name=\"", XmlEscape(plugin_name.empty() ? endpoint : plugin_name),
         "\" ", counts, ">\n");
  Append(&out, "    <properties>\n      <property name=\"endpoint\" value=\"", XmlEscape(endpoint),
         "\"/>\n      <property name=\"plugin\" value=\"", XmlEscape(plugin_name),
         "\"/>\n      <property name=\"version\" value=\"", XmlEscape(plugin_version),
         "\"/>\n      <property name=\"warnings\" value=\"", warned(),
         "\"/>\n      <property name=\"strict\" value=\"", strict ? "true" : "false",
         "\"/>\n    </properties>\n");
  for (const CheckResult& r : results) {
    const std::string group = r.name.substr(0, r.name.find('.'));
    Append(&out, "    <testcase classname=\"cnpgi-conformance.", XmlEscape(group), "\" name=\"",
           XmlEscape(r.name), "\" time=\"", Seconds(r.duration), "\"");
    switch (r.outcome) {
      case CheckOutcome::kPass:
        Append(&out, ">\n      <system-out>", XmlEscape(r.message),
               "</system-out>\n    </testcase>\n");
        break;
      case CheckOutcome::kFail:
        Append(&out, ">\n      <failure message=\"", XmlEscape(r.message), "\">",
               XmlEscape(r.message), "</failure>\n    </testcase>\n");
        break;
      case CheckOutcome::kSkip:
        Append(&out, ">\n      <skipped message=\"", XmlEscape(r.message),
               "\"/>\n    </testcase>\n");
        break;
      case CheckOutcome::kWarn: {
        const std::string text = XmlEscape(Cat("WARN: ", r.message));
        Append(&out,
               ">\n      <properties><property name=\"outcome\" value=\"WARN\"/></properties>\n");
        if (strict) {
          Append(&out, "      <failure message=\"", text, "\">", text, "</failure>\n");
        }
        Append(&out, "      <system-out>", text, "</system-out>\n    </testcase>\n");
        break;
      }
    }
  }
  out += "  </testsuite>\n</testsuites>\n";
  return out;
}

std::string FormatCheckResult(const CheckResult& result) {
  std::string name = result.name;
  if (name.size() < 29) name.resize(29, ' ');
  return Cat(OutcomeName(result.outcome), "  ", name, " ", result.message);
}

absl::StatusOr<ConformanceReport> RunConformance(
    const ConformanceOptions& options, const std::function<void(const CheckResult&)>& on_result) {
  if (absl::Status s = ValidateCheckSelection(options.only); !s.ok()) return s;
  if (absl::Status s = ValidateCheckSelection(options.skip); !s.ok()) return s;
  if (options.timeout <= absl::ZeroDuration() || options.call_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the timeouts must be positive");
  }
  const absl::Time start = absl::Now();
  ClientOptions client_options;
  client_options.call_timeout = options.call_timeout;
  client_options.deadline = start + options.timeout;
  client_options.plugin_parameters = options.plugin_parameters;

  absl::StatusOr<PluginClient> client = PluginClient::Open(options.endpoint, client_options);
  if (!client.ok()) return client.status();
  absl::Status handshake = client->Handshake();
  // Its first step is GetPluginMetadata: without an answer there, nothing
  // can be checked.
  if (const auto& steps = client->handshake().steps; !steps.empty() && !steps.front().status.ok()) {
    return Unreachable(options, steps.front().status);
  }

  ConformanceReport report;
  report.strict = options.strict;
  report.endpoint = options.endpoint.Describe();
  report.plugin_name = client->handshake().name();
  report.plugin_version = client->handshake().version();
  report.services = client->handshake().IdentityCapabilityNames();

  internal::CheckEnv env(options, client_options, *client, handshake);
  for (const internal::CheckDefinition& check : internal::CheckDefinitions()) {
    if (!Selected(options, check.name)) continue;
    CheckResult result;
    result.name = check.name;
    const absl::Time check_start = absl::Now();
    if (check_start >= client_options.deadline) {
      report.timed_out = true;
      result.outcome = CheckOutcome::kFail;
      result.message = Cat("not run: the global timeout of ",
                           internal::DurationText(options.timeout), " expired");
    } else {
      internal::Verdict verdict = check.run(env);
      result.outcome = verdict.outcome;
      result.message = std::move(verdict.message);
      if (absl::Now() >= client_options.deadline) report.timed_out = true;
    }
    result.duration = absl::Now() - check_start;
    if (on_result) on_result(result);
    report.results.push_back(std::move(result));
  }
  report.duration = absl::Now() - start;
  return report;
}

}  // namespace cnpgi::test
