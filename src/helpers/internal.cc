// The shared internals of the helpers component declared in internal.h:
// JSON string literals, field paths and the shape checks the object views
// use.
#include "helpers/internal.h"

#include "cnpgi/json.h"

#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

namespace cnpgi {
namespace {

using nlohmann::json;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

namespace internal {

bool AppendJsonString(std::string_view text, std::string& out) {
  out += '"';
  if (!AppendJsonEscaped(out, text, InvalidUtf8::kFail)) return false;
  out += '"';
  return true;
}

void AppendFieldPath(std::string& out, const PathStep& step) {
  if (step.is_index) {
    out += internal::Cat("[", step.index, "]");
    return;
  }
  bool plain = !step.name.empty();
  for (const char c : step.name) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || IsDigit(c) || c == '_' || c == '-')) {
      plain = false;
      break;
    }
  }
  if (plain) {
    if (!out.empty()) out += '.';
    out += step.name;
  } else {
    out += internal::Cat("[", step.name, "]");
  }
}

std::string FormatFieldPath(const std::vector<std::string>& components) {
  std::string out;
  for (const std::string& component : components) {
    std::size_t index;
    if (ParseArrayIndex(component, index)) {
      AppendFieldPath(out, PathStep::Index(index));
    } else {
      AppendFieldPath(out, PathStep::Member(component));
    }
  }
  return out;
}

const nlohmann::json* Member(const nlohmann::json* object, std::string_view key) {
  if (object == nullptr || !object->is_object()) return nullptr;
  const auto& members = object->get_ref<const json::object_t&>();
  auto it = members.find(key);
  return it == members.end() ? nullptr : &it->second;
}

std::string_view StringOrEmpty(const nlohmann::json* value) {
  if (value == nullptr || !value->is_string()) return {};
  return value->get_ref<const json::string_t&>();
}

absl::Status TypeError(std::string_view what, std::string_view path, std::string_view expected,
                       const nlohmann::json& got) {
  return absl::InvalidArgumentError(
      internal::Cat(what, " ", path, ": expected ", expected, ", got ", JsonTypeName(got)));
}

absl::Status CheckOptionalString(std::string_view what, const nlohmann::json* value,
                                 std::string_view path) {
  if (value == nullptr || value->is_null() || value->is_string()) return absl::OkStatus();
  return TypeError(what, path, "a string", *value);
}

absl::Status CheckOptionalBool(std::string_view what, const nlohmann::json* value,
                               std::string_view path) {
  if (value == nullptr || value->is_null() || value->is_boolean()) return absl::OkStatus();
  return TypeError(what, path, "a boolean", *value);
}

absl::Status CheckOptionalObject(std::string_view what, const nlohmann::json* value,
                                 std::string_view path) {
  if (value == nullptr || value->is_null() || value->is_object()) return absl::OkStatus();
  return TypeError(what, path, "an object", *value);
}

absl::Status CheckOptionalArray(std::string_view what, const nlohmann::json* value,
                                std::string_view path) {
  if (value == nullptr || value->is_null() || value->is_array()) return absl::OkStatus();
  return TypeError(what, path, "an array", *value);
}

absl::Status CheckOptionalStringMap(std::string_view what, const nlohmann::json* value,
                                    std::string_view path) {
  if (absl::Status s = CheckOptionalObject(what, value, path); !s.ok()) return s;
  if (value == nullptr || value->is_null()) return absl::OkStatus();
  for (const auto& [key, member] : value->get_ref<const json::object_t&>()) {
    if (!member.is_string()) {
      std::string member_path(path);
      AppendFieldPath(member_path, PathStep::Member(key));
      return TypeError(what, member_path, "a string", member);
    }
  }
  return absl::OkStatus();
}

}  // namespace internal
}  // namespace cnpgi
