// RFC 6902 application written for untrusted patches: nlohmann::json::patch
// asserts (aborts) on an `add` below a missing parent, which a checker fed by
// arbitrary plugins cannot afford, and its messages do not name the
// operation. The semantics are those of the operator's library
// (evanphx/json-patch v5, default options), quirks included where a plugin
// could depend on them: `null` is no operation, `add`/`replace` without a
// value write null, the root path "" is refused, a `~` not followed by 0 or 1
// is literal, indices are parsed like Go's strconv.Atoi ("01", "+1"), a
// negative `add` index counts from the end of the grown array, and `test`
// compares numbers by their text. tests/go's oracle runs a corpus through
// both.
#include "cnpgi/testing/json_patch.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "base/json_pointer.h"
#include "cnpgi/json.h"
#include "testing/internal.h"

namespace cnpgi::testing {
namespace {

using Json = nlohmann::json;

std::string Abbreviate(const Json& value, std::size_t limit = 80) {
  absl::StatusOr<std::string> text = ToJson(value);
  std::string out = text.ok() ? *std::move(text) : std::string("<not representable>");
  if (out.size() > limit) {
    out.resize(limit);
    out += "...";
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> ParsePointer(const std::string& pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;
  if (pointer.front() != '/') {
    return absl::InvalidArgumentError(internal::Cat(
        "\"", pointer, "\" is not a JSON pointer (it must be empty or start with /)"));
  }
  // ~0 and ~1 are escapes; any other ~ is kept as it is.
  cnpgi::internal::PointerTokens pointer_tokens(pointer, cnpgi::internal::PointerTildes::kKept);
  for (std::string_view token; pointer_tokens.Next(token);) tokens.emplace_back(token);
  return tokens;
}

std::string JoinPointer(const std::vector<std::string>& tokens, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count && i < tokens.size(); ++i) {
    AppendJsonPointerToken(tokens[i], out);
  }
  return out;
}

// An array index token, read as the operator's library reads it (Go's
// strconv.Atoi). Negative indices count from the end.
absl::StatusOr<std::int64_t> ParseIndex(const std::string& token) {
  return cnpgi::internal::ParseGoArrayIndex(token);
}

// The element of `array` at `token` for reading/removing/replacing.
absl::StatusOr<std::size_t> ExistingIndex(const Json& array, const std::string& token) {
  absl::StatusOr<std::int64_t> index = ParseIndex(token);
  if (!index.ok()) return index.status();
  const auto size = static_cast<std::int64_t>(array.size());
  std::int64_t i = *index;
  if (i < 0) i += size;
  if (i < 0 || i >= size) {
    return absl::InvalidArgumentError(
        internal::Cat("index ", token, " is out of range (the array has ", size, " elements)"));
  }
  return static_cast<std::size_t>(i);
}

// The value at tokens[0, count), or an error naming where the path breaks.
absl::StatusOr<Json*> Resolve(Json& document, const std::vector<std::string>& tokens,
                              std::size_t count) {
  Json* current = &document;
  for (std::size_t i = 0; i < count; ++i) {
    const std::string& token = tokens[i];
    if (current->is_object()) {
      auto it = current->find(token);
      if (it == current->end()) {
        return absl::InvalidArgumentError(
            internal::Cat("the document has no ", JoinPointer(tokens, i + 1)));
      }
      current = &*it;
    } else if (current->is_array()) {
      absl::StatusOr<std::size_t> index = ExistingIndex(*current, token);
      if (!index.ok()) {
        return absl::InvalidArgumentError(
            internal::Cat("at ", JoinPointer(tokens, i + 1), ": ", index.status().message()));
      }
      current = &(*current)[*index];
    } else {
      return absl::InvalidArgumentError(
          internal::Cat("the document has no ", JoinPointer(tokens, i + 1), " (",
                        i == 0 ? std::string("the root") : JoinPointer(tokens, i), " is ",
                        JsonTypeName(*current), ")"));
    }
  }
  return current;
}

// evanphx/json-patch refuses every operation on the root path "".
absl::Status RefuseRoot(const std::vector<std::string>& tokens, const char* what) {
  if (!tokens.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(internal::Cat(
      "its ", what, " is the whole document (\"\"), which evanphx/json-patch refuses"));
}

absl::Status Add(Json& document, const std::vector<std::string>& tokens, Json value) {
  if (absl::Status s = RefuseRoot(tokens, "path"); !s.ok()) return s;
  absl::StatusOr<Json*> parent = Resolve(document, tokens, tokens.size() - 1);
  if (!parent.ok()) {
    return absl::InvalidArgumentError(
        internal::Cat("its parent does not exist: ", parent.status().message()));
  }
  const std::string& last = tokens.back();
  Json& container = **parent;
  if (container.is_object()) {
    container[last] = std::move(value);
    return absl::OkStatus();
  }
  if (container.is_array()) {
    if (last == "-") {
      container.push_back(std::move(value));
      return absl::OkStatus();
    }
    absl::StatusOr<std::int64_t> index = ParseIndex(last);
    if (!index.ok()) return index.status();
    // A negative index counts from the end of the array once grown by one.
    const auto size = static_cast<std::int64_t>(container.size());
    // There is one more insertion point than elements, and negative indices
    // count them from the end: -1 appends, -(size + 1) prepends.
    std::int64_t i = *index;
    if (i < 0) i += size + 1;
    if (i < 0 || i > size) {
      return absl::InvalidArgumentError(internal::Cat(
          "index ", last, " is out of range (the array ", "has ", size, " elements)"));
    }
    container.insert(container.begin() + i, std::move(value));
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(internal::Cat(
      "its parent ", JoinPointer(tokens, tokens.size() - 1), " is ", JsonTypeName(container)));
}

absl::StatusOr<Json> Remove(Json& document, const std::vector<std::string>& tokens) {
  if (absl::Status s = RefuseRoot(tokens, "path"); !s.ok()) return s;
  absl::StatusOr<Json*> parent = Resolve(document, tokens, tokens.size() - 1);
  if (!parent.ok()) return parent.status();
  Json& container = **parent;
  const std::string& last = tokens.back();
  if (container.is_object()) {
    auto it = container.find(last);
    if (it == container.end()) {
      return absl::InvalidArgumentError(
          internal::Cat("the document has no ", JoinPointer(tokens, tokens.size())));
    }
    Json removed = std::move(*it);
    container.erase(it);
    return removed;
  }
  if (container.is_array()) {
    absl::StatusOr<std::size_t> index = ExistingIndex(container, last);
    if (!index.ok()) return index.status();
    Json removed = std::move(container[*index]);
    container.erase(container.begin() + static_cast<std::ptrdiff_t>(*index));
    return removed;
  }
  return absl::InvalidArgumentError(
      internal::Cat("the document has no ", JoinPointer(tokens, tokens.size()), " (",
                    JoinPointer(tokens, tokens.size() - 1), " is ", JsonTypeName(container), ")"));
}

absl::StatusOr<std::string> StringMember(const Json& operation, const char* key, bool required) {
  auto it = operation.find(key);
  if (it == operation.end()) {
    if (required) return absl::InvalidArgumentError(internal::Cat("it has no \"", key, "\""));
    return std::string();
  }
  if (!it->is_string()) {
    return absl::InvalidArgumentError(
        internal::Cat("its \"", key, "\" is ", JsonTypeName(*it), ", not a string"));
  }
  return it->get<std::string>();
}

// `test` equality as evanphx/json-patch has it: objects by member, arrays by
// element, anything else by its JSON text (1 and 1.0 differ).
bool SameAsEvanphx(const Json& a, const Json& b) {
  if (a.is_object() && b.is_object()) {
    if (a.size() != b.size()) return false;
    for (const auto& [key, value] : a.items()) {
      auto it = b.find(key);
      if (it == b.end() || !SameAsEvanphx(value, *it)) return false;
    }
    return true;
  }
  if (a.is_array() && b.is_array()) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (!SameAsEvanphx(a[i], b[i])) return false;
    }
    return true;
  }
  if (a.is_structured() || b.is_structured()) return false;
  return a.dump() == b.dump();
}

absl::Status ApplyOne(Json& document, const Json& operation, std::string& label) {
  if (!operation.is_object()) {
    return absl::InvalidArgumentError(
        internal::Cat("it is ", JsonTypeName(operation), ", not an object"));
  }
  absl::StatusOr<std::string> op = StringMember(operation, "op", true);
  if (!op.ok()) return op.status();
  absl::StatusOr<std::string> path = StringMember(operation, "path", true);
  if (!path.ok()) return path.status();
  label = internal::Cat(" (", *op, " ", *path, ")");
  absl::StatusOr<std::vector<std::string>> tokens = ParsePointer(*path);
  if (!tokens.ok()) return tokens.status();

  // `add` and `replace` without a value write null, as evanphx/json-patch
  // does; `test` needs one.
  auto value = [&](bool required = false) -> absl::StatusOr<Json> {
    auto it = operation.find("value");
    if (it == operation.end()) {
      if (required) return absl::InvalidArgumentError("it has no \"value\"");
      return Json();
    }
    return *it;
  };
  auto from = [&]() -> absl::StatusOr<std::vector<std::string>> {
    absl::StatusOr<std::string> f = StringMember(operation, "from", true);
    if (!f.ok()) return f.status();
    return ParsePointer(*f);
  };

  if (*op == "add") {
    absl::StatusOr<Json> v = value();
    if (!v.ok()) return v.status();
    return Add(document, *tokens, *std::move(v));
  }
  if (*op == "remove") return Remove(document, *tokens).status();
  if (*op == "replace") {
    absl::StatusOr<Json> v = value();
    if (!v.ok()) return v.status();
    if (absl::Status s = RefuseRoot(*tokens, "path"); !s.ok()) return s;
    absl::StatusOr<Json*> target = Resolve(document, *tokens, tokens->size());
    if (!target.ok()) return target.status();
    **target = *std::move(v);
    return absl::OkStatus();
  }
  if (*op == "move" || *op == "copy") {
    absl::StatusOr<std::vector<std::string>> source = from();
    if (!source.ok()) return source.status();
    if (absl::Status s = RefuseRoot(*source, "\"from\""); !s.ok()) return s;
    if (*op == "move" && tokens->size() > source->size() &&
        std::equal(source->begin(), source->end(), tokens->begin())) {
      return absl::InvalidArgumentError("it moves a value into itself");
    }
    Json moved;
    if (*op == "move") {
      absl::StatusOr<Json> removed = Remove(document, *source);
      if (!removed.ok())
        return absl::InvalidArgumentError(
            internal::Cat("its \"from\": ", removed.status().message()));
      moved = *std::move(removed);
    } else {
      absl::StatusOr<Json*> found = Resolve(document, *source, source->size());
      if (!found.ok())
        return absl::InvalidArgumentError(
            internal::Cat("its \"from\": ", found.status().message()));
      moved = **found;
    }
    return Add(document, *tokens, std::move(moved));
  }
  if (*op == "test") {
    absl::StatusOr<Json> v = value(/*required=*/true);
    if (!v.ok()) return v.status();
    if (absl::Status s = RefuseRoot(*tokens, "path"); !s.ok()) return s;
    absl::StatusOr<Json*> target = Resolve(document, *tokens, tokens->size());
    if (!target.ok()) {
      // null matches a member missing from an object that exists, not a
      // missing parent nor a missing array element.
      if (v->is_null() && !tokens->empty()) {
        absl::StatusOr<Json*> parent = Resolve(document, *tokens, tokens->size() - 1);
        if (parent.ok() && (*parent)->is_object()) return absl::OkStatus();
      }
      return target.status();
    }
    if (!SameAsEvanphx(**target, *v)) {
      if (**target == *v) {
        return absl::InvalidArgumentError(internal::Cat(
            "test failed: the value is ", (*target)->dump(), ", written differently from ",
            v->dump(), " (evanphx/json-patch compares numbers by their text)"));
      }
      return absl::InvalidArgumentError(internal::Cat(
          "test failed: the value is ", Abbreviate(**target), ", not ", Abbreviate(*v)));
    }
    return absl::OkStatus();
  }
  return absl::InvalidArgumentError(internal::Cat(
      "unknown op \"", *op, "\" (RFC 6902 has add, remove, replace, move, copy, test)"));
}

void Describe(const Json& a, const Json& b, std::string& pointer, std::string& out) {
  if (!out.empty()) return;
  const std::string where = pointer.empty() ? std::string("(root)") : pointer;
  if (a.is_object() && b.is_object()) {
    std::set<std::string> keys;
    for (const auto& [k, v] : a.items()) keys.insert(k);
    for (const auto& [k, v] : b.items()) keys.insert(k);
    for (const std::string& key : keys) {
      const std::size_t size = pointer.size();
      AppendJsonPointerToken(key, pointer);
      auto ia = a.find(key);
      auto ib = b.find(key);
      if (ia == a.end()) {
        out = internal::Cat(pointer, ": absent, then ", Abbreviate(*ib));
      } else if (ib == b.end()) {
        out = internal::Cat(pointer, ": ", Abbreviate(*ia), ", then absent");
      } else {
        Describe(*ia, *ib, pointer, out);
      }
      pointer.resize(size);
      if (!out.empty()) return;
    }
    return;
  }
  if (a.is_array() && b.is_array()) {
    const std::size_t common = std::min(a.size(), b.size());
    for (std::size_t i = 0; i < common; ++i) {
      const std::size_t size = pointer.size();
      AppendJsonPointerToken(std::to_string(i), pointer);
      Describe(a[i], b[i], pointer, out);
      pointer.resize(size);
      if (!out.empty()) return;
    }
    if (a.size() != b.size()) {
      out = internal::Cat(where, ": ", a.size(), " elements, then ", b.size());
      const Json& longer = a.size() > b.size() ? a : b;
      internal::Append(&out, " (", a.size() > b.size() ? "removed " : "added ",
                       Abbreviate(longer[common]), common + 1 < longer.size() ? ", ..." : "", ")");
    }
    return;
  }
  if (a != b) out = internal::Cat(where, ": ", Abbreviate(a), ", then ", Abbreviate(b));
}

const Json* FindMember(const Json* object, std::string_view key) {
  if (object == nullptr || !object->is_object()) return nullptr;
  auto it = object->find(key);
  return it == object->end() ? nullptr : &*it;
}

const Json* FindNamed(const Json* spec, std::string_view list, std::string_view name) {
  const Json* entries = FindMember(spec, list);
  if (entries == nullptr || !entries->is_array()) return nullptr;
  for (const Json& e : *entries) {
    const Json* n = FindMember(&e, "name");
    if (n != nullptr && n->is_string() && n->get_ref<const std::string&>() == name) return &e;
  }
  return nullptr;
}

std::optional<std::string> MetadataString(const Json& document, std::string_view map,
                                          std::string_view key) {
  const Json* value = FindMember(FindMember(FindMember(&document, "metadata"), map), key);
  if (value == nullptr || !value->is_string()) return std::nullopt;
  return value->get<std::string>();
}

std::string_view StringAt(const Json& document, std::string_view key) {
  const Json* value = FindMember(&document, key);
  if (value == nullptr || !value->is_string()) return {};
  return value->get_ref<const std::string&>();
}

}  // namespace

absl::StatusOr<Json> ApplyJsonPatch(const Json& document, std::string_view patch) {
  if (patch.empty()) return document;
  absl::StatusOr<Json> operations = ParseJson(patch);
  if (!operations.ok()) {
    return absl::InvalidArgumentError(
        internal::Cat("the patch is not JSON: ", operations.status().message()));
  }
  // evanphx/json-patch decodes null as a patch without operations.
  if (operations->is_null()) return document;
  if (!operations->is_array()) {
    return absl::InvalidArgumentError(internal::Cat("the patch is ", JsonTypeName(*operations),
                                                    ", not an array of RFC 6902 operations"));
  }
  Json result = document;
  for (std::size_t i = 0; i < operations->size(); ++i) {
    std::string label;
    if (absl::Status s = ApplyOne(result, (*operations)[i], label); !s.ok()) {
      return absl::InvalidArgumentError(
          internal::Cat("patch operation ", i, label, " does not apply: ", s.message()));
    }
  }
  return result;
}

std::string DescribeJsonDifference(const Json& a, const Json& b) {
  std::string pointer;
  std::string out;
  Describe(a, b, pointer, out);
  return out;
}

absl::StatusOr<PatchedObject> PatchedObject::Make(Json sent, std::string patch) {
  absl::StatusOr<Json> result = ApplyJsonPatch(sent, patch);
  if (!result.ok()) return result.status();
  // It applied, so it is empty, null or an array.
  absl::StatusOr<Json> operations = patch.empty() ? Json() : ParseJson(patch);
  const std::size_t count = operations.ok() ? operations->size() : 0;
  return PatchedObject(std::move(sent), std::move(patch), *std::move(result), count);
}

const Json* PatchedObject::Find(std::string_view json_pointer) const {
  return FindJson(result_, json_pointer);
}

Json PatchedObject::At(std::string_view json_pointer) const {
  const Json* found = Find(json_pointer);
  return found == nullptr ? Json() : *found;
}

std::string_view PatchedObject::api_version() const { return StringAt(result_, "apiVersion"); }
std::string_view PatchedObject::kind() const { return StringAt(result_, "kind"); }

std::optional<std::string> PatchedObject::label(std::string_view key) const {
  return MetadataString(result_, "labels", key);
}
std::optional<std::string> PatchedObject::annotation(std::string_view key) const {
  return MetadataString(result_, "annotations", key);
}

const Json* PatchedObject::PodSpec() const {
  if (kind() == "Pod") return FindJson(result_, "/spec");
  return FindJson(result_, "/spec/template/spec");
}

const Json* PatchedObject::FindContainer(std::string_view name) const {
  return FindNamed(PodSpec(), "containers", name);
}
const Json* PatchedObject::FindInitContainer(std::string_view name) const {
  return FindNamed(PodSpec(), "initContainers", name);
}
const Json* PatchedObject::FindVolume(std::string_view name) const {
  return FindNamed(PodSpec(), "volumes", name);
}

std::string PatchedObject::DescribeChange() const { return DescribeJsonDifference(sent_, result_); }

void PrintTo(const PatchedObject& object, std::ostream* os) {
  *os << "PatchedObject{" << object.api_version() << " " << object.kind() << ", patch "
      << (object.patch().empty() ? std::string("<none>") : object.patch());
  if (object.changed()) *os << ", first change " << object.DescribeChange();
  *os << "}";
}

}  // namespace cnpgi::testing
