#include "cnpgi/object.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "helpers/internal.h"

namespace cnpgi {
namespace {

using Json = nlohmann::json;

bool IsPrefix(const std::vector<std::string>& prefix, const std::vector<std::string>& path) {
  return prefix.size() <= path.size() && std::equal(prefix.begin(), prefix.end(), path.begin());
}

std::string PointerOf(const std::vector<std::string>& tokens, std::size_t count) {
  std::string out;
  for (std::size_t i = 0; i < count; ++i) AppendJsonPointerToken(tokens[i], out);
  return out;
}

// Value at `tokens` below `node`, or nullptr.
Json* Navigate(Json* node, const std::vector<std::string>& tokens, std::size_t from) {
  for (std::size_t i = from; i < tokens.size() && node != nullptr; ++i) {
    if (node->is_object()) {
      auto& members = *node->get_ptr<Json::object_t*>();
      auto it = members.find(tokens[i]);
      node = it == members.end() ? nullptr : &it->second;
    } else if (node->is_array()) {
      auto& elements = *node->get_ptr<Json::array_t*>();
      std::size_t index;
      node = internal::ParseArrayIndex(tokens[i], index) && index < elements.size()
                 ? &elements[index]
                 : nullptr;
    } else {
      node = nullptr;
    }
  }
  return node;
}

// True if `value` is exactly what Edit() created for `created` tokens and the
// author did not touch: nested single-member objects ending in null.
bool IsUntouchedSkeleton(const Json& value, const std::vector<std::string>& created) {
  const Json* node = &value;
  for (const std::string& token : created) {
    if (!node->is_object() || node->size() != 1) return false;
    const auto& members = node->get_ref<const Json::object_t&>();
    auto it = members.find(token);
    if (it == members.end()) return false;
    node = &it->second;
  }
  return node->is_null();
}

// Kubernetes lists (containers, volumes, env, ...) hold entries identified
// by "name": two entries with different names are different things, and
// replacing one with the other reads better than a field-by-field diff.
bool DifferentNamedEntries(const Json& a, const Json& b) {
  if (!a.is_object() || !b.is_object()) return false;
  const Json* name_a = internal::Member(&a, "name");
  const Json* name_b = internal::Member(&b, "name");
  return name_a != nullptr && name_b != nullptr && *name_a != *name_b;
}

enum class Step : char { kKeep, kRemove, kAdd };

// Above this many element pairs the middles of two arrays are aligned by
// position instead of by longest common subsequence (quadratic).
constexpr std::size_t kMaxAlignedPairs = 4096;

// The steps turning a[offset, offset + p) into b[offset, offset + q).
std::vector<Step> EditScript(const Json::array_t& a, const Json::array_t& b, std::size_t offset,
                             std::size_t p, std::size_t q) {
  std::vector<Step> script;
  script.reserve(p + q);
  if (p == 0 || q == 0 || p * q > kMaxAlignedPairs) {
    // By position: changed elements first, then removals or additions.
    const std::size_t paired = std::min(p, q);
    for (std::size_t k = 0; k < paired; ++k) {
      script.push_back(Step::kRemove);
      script.push_back(Step::kAdd);
    }
    script.insert(script.end(), p - paired, Step::kRemove);
    script.insert(script.end(), q - paired, Step::kAdd);
    return script;
  }
  // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
  const std::size_t width = q + 1;
  std::vector<std::uint16_t> lcs((p + 1) * width, 0);
  std::vector<bool> equal(p * q);
  for (std::size_t i = p; i-- > 0;) {
    for (std::size_t j = q; j-- > 0;) {
      equal[i * q + j] = a[offset + i] == b[offset + j];
      lcs[i * width + j] = equal[i * q + j]
                               ? static_cast<std::uint16_t>(lcs[(i + 1) * width + j + 1] + 1)
                               : std::max(lcs[(i + 1) * width + j], lcs[i * width + j + 1]);
    }
  }
  // Walk the table; between two kept elements, count what is removed and
  // added, and emit those as pairs (a changed element) first, then the rest.
  std::size_t i = 0;
  std::size_t j = 0;
  std::size_t removed = 0;
  std::size_t added = 0;
  auto flush = [&] {
    const std::size_t paired = std::min(removed, added);
    for (std::size_t k = 0; k < paired; ++k) {
      script.push_back(Step::kRemove);
      script.push_back(Step::kAdd);
    }
    script.insert(script.end(), removed - paired, Step::kRemove);
    script.insert(script.end(), added - paired, Step::kAdd);
    removed = added = 0;
  };
  while (i < p || j < q) {
    if (i < p && j < q && equal[i * q + j]) {
      flush();
      script.push_back(Step::kKeep);
      ++i, ++j;
    } else if (i < p && (j == q || lcs[(i + 1) * width + j] >= lcs[i * width + j + 1])) {
      ++removed;
      ++i;
    } else {
      ++added;
      ++j;
    }
  }
  flush();
  return script;
}

// Writes RFC 6902 operations as compact JSON. The first failure stops
// everything and is kept in `error`.
class PatchWriter {
 public:
  explicit PatchWriter(std::string& out) : out_(out) {}

  bool ok() const { return error_.ok(); }
  const absl::Status& error() const { return error_; }
  bool empty() const { return count_ == 0; }

  void Finish() {
    if (count_ > 0) out_ += ']';
  }

  void Op(std::string_view op, const std::string& path, const Json* value) {
    if (!error_.ok()) return;
    if (path.empty()) {
      error_ = absl::FailedPreconditionError(
          "the edited object is no longer a JSON object; the operator needs an object of the "
          "same kind back");
      return;
    }
    for (std::string_view field : {std::string_view("/apiVersion"), std::string_view("/kind")}) {
      if (path.compare(0, field.size(), field) == 0 &&
          (path.size() == field.size() || path[field.size()] == '/')) {
        error_ = absl::FailedPreconditionError(
            internal::Cat("the edit changes ", field.substr(1),
                          "; the operator decodes the patched object as the kind it sent, so "
                          "apiVersion and kind must stay untouched"));
        return;
      }
    }
    out_ += count_++ == 0 ? "[{\"op\":\"" : ",{\"op\":\"";
    out_ += op;
    out_ += "\",\"path\":";
    if (!internal::AppendJsonString(path, out_)) {
      error_ = absl::InvalidArgumentError(
          internal::Cat("cannot write the patch: a member name on the path is not valid UTF-8"));
      return;
    }
    if (value != nullptr) {
      out_ += ",\"value\":";
      absl::Status status = internal::AppendJson(*value, out_);
      if (!status.ok()) {
        error_ = absl::InvalidArgumentError(
            internal::Cat("cannot write the patch value at ", path, ": ", status.message()));
        return;
      }
    }
    out_ += '}';
  }

  // Emits the operations turning `before` into `after` at `path` (an escaped
  // JSON pointer, restored on return).
  void Diff(const Json& before, const Json& after, std::string& path) {
    if (!error_.ok()) return;
    if (before.type() != after.type() || (!before.is_object() && !before.is_array())) {
      // Scalars (numbers of different representations compare by value).
      if (before != after) Op("replace", path, &after);
      return;
    }
    const std::size_t mark = path.size();
    if (before.is_object()) {
      const auto& a = before.get_ref<const Json::object_t&>();
      const auto& b = after.get_ref<const Json::object_t&>();
      // Both maps are sorted by the same comparator: merge them.
      auto ia = a.begin();
      auto ib = b.begin();
      while (ia != a.end() || ib != b.end()) {
        int order;
        if (ia == a.end()) {
          order = 1;
        } else if (ib == b.end()) {
          order = -1;
        } else {
          order = ia->first.compare(ib->first);
        }
        if (order < 0) {
          AppendJsonPointerToken(ia->first, path);
          Op("remove", path, nullptr);
          ++ia;
        } else if (order > 0) {
          AppendJsonPointerToken(ib->first, path);
          Op("add", path, &ib->second);
          ++ib;
        } else {
          AppendJsonPointerToken(ia->first, path);
          Diff(ia->second, ib->second, path);
          ++ia;
          ++ib;
        }
        path.resize(mark);
        if (!error_.ok()) return;
      }
      return;
    }
    // Arrays: keep the common prefix and suffix, then align the middles
    // with a longest common subsequence (when small; positionally
    // otherwise), so that elements inserted or removed anywhere yield one
    // operation each rather than a cascade of replaces.
    const auto& a = before.get_ref<const Json::array_t&>();
    const auto& b = after.get_ref<const Json::array_t&>();
    const std::size_t n = a.size();
    const std::size_t m = b.size();
    std::size_t prefix = 0;
    while (prefix < n && prefix < m && a[prefix] == b[prefix]) ++prefix;
    std::size_t suffix = 0;
    while (suffix < n - prefix && suffix < m - prefix && a[n - 1 - suffix] == b[m - 1 - suffix]) {
      ++suffix;
    }
    const std::size_t p = n - prefix - suffix;
    const std::size_t q = m - prefix - suffix;
    const std::vector<Step> script = EditScript(a, b, prefix, p, q);
    std::size_t index = prefix;  // position in the array being patched
    std::size_t i = prefix;      // next element of `before`
    std::size_t j = prefix;      // next element of `after`
    auto index_path = [&] {
      path.resize(mark);
      path += '/';
      path += internal::Cat(index);
    };
    for (std::size_t k = 0; k < script.size() && error_.ok(); ++k) {
      switch (script[k]) {
        case Step::kKeep:
          ++index, ++i, ++j;
          break;
        case Step::kRemove:
          index_path();
          if (k + 1 < script.size() && script[k + 1] == Step::kAdd) {
            // A removal followed by an addition at the same place: the
            // element changed.
            if (DifferentNamedEntries(a[i], b[j])) {
              Op("replace", path, &b[j]);
            } else {
              Diff(a[i], b[j], path);
            }
            ++index, ++i, ++j, ++k;
          } else {
            Op("remove", path, nullptr);
            ++i;
          }
          break;
        case Step::kAdd:
          index_path();
          Op("add", path, &b[j]);
          ++index, ++j;
          break;
      }
    }
    path.resize(mark);
  }

 private:
  std::string& out_;
  std::size_t count_ = 0;
  absl::Status error_;
};

}  // namespace

StringMapView::StringMapView(const nlohmann::json* object) {
  if (object != nullptr && object->is_object()) {
    members_ = &object->get_ref<const Json::object_t&>();
  }
}

std::size_t StringMapView::size() const { return members_ == nullptr ? 0 : members_->size(); }

std::optional<std::string_view> StringMapView::find(std::string_view key) const {
  if (members_ == nullptr) return std::nullopt;
  auto it = members_->find(key);
  if (it == members_->end()) return std::nullopt;
  return internal::StringOrEmpty(&it->second);
}

StringMapView::iterator StringMapView::begin() const {
  return members_ == nullptr ? iterator() : iterator(members_->begin());
}

StringMapView::iterator StringMapView::end() const {
  return members_ == nullptr ? iterator() : iterator(members_->end());
}

StringMapView::iterator::value_type StringMapView::iterator::operator*() const {
  return {it_->first, internal::StringOrEmpty(&it_->second)};
}

absl::StatusOr<Object> Object::Parse(std::string_view text, const JsonLimits& limits) {
  return ParseAs(text, limits, {}, {}, /*strict=*/false);
}

absl::StatusOr<Object> Object::ParseStrict(std::string_view text, std::string_view api_version,
                                           std::string_view kind, const JsonLimits& limits) {
  return ParseAs(text, limits, api_version, kind, /*strict=*/true);
}

absl::StatusOr<Object> Object::FromJson(nlohmann::json document) {
  if (!document.is_object()) {
    return absl::InvalidArgumentError(
        internal::Cat("a Kubernetes object must be a JSON object, got ", JsonTypeName(document)));
  }
  Object object(std::move(document));
  if (absl::Status s = object.CheckMetadata(); !s.ok()) return s;
  return object;
}

absl::StatusOr<Object> Object::ParseAs(std::string_view text, const JsonLimits& limits,
                                       std::string_view api_version, std::string_view kind,
                                       bool strict) {
  absl::StatusOr<nlohmann::json> document = ParseJson(text, limits);
  if (!document.ok()) return document.status();
  const std::string_view what = kind.empty() ? "object" : kind;
  if (!document->is_object()) {
    return absl::InvalidArgumentError(internal::Cat(
        "a Kubernetes ", what, " must be a JSON object, got ", JsonTypeName(*document)));
  }
  Object object(*std::move(document));
  if (absl::Status s = object.CheckMetadata(); !s.ok()) return s;
  if (!kind.empty() || strict) {
    if (absl::Status s = object.CheckKind(api_version, kind, strict); !s.ok()) return s;
  }
  return object;
}

absl::Status Object::CheckMetadata() const {
  const std::string_view what = "object";
  const Json* root = &document_;
  if (absl::Status s =
          internal::CheckOptionalString(what, internal::Member(root, "apiVersion"), "apiVersion");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = internal::CheckOptionalString(what, internal::Member(root, "kind"), "kind");
      !s.ok()) {
    return s;
  }
  const Json* metadata = internal::Member(root, "metadata");
  if (absl::Status s = internal::CheckOptionalObject(what, metadata, "metadata"); !s.ok()) return s;
  for (const char* field : {"name", "namespace", "uid"}) {
    if (absl::Status s = internal::CheckOptionalString(what, internal::Member(metadata, field),
                                                       internal::Cat("metadata.", field));
        !s.ok()) {
      return s;
    }
  }
  for (const char* field : {"labels", "annotations"}) {
    if (absl::Status s = internal::CheckOptionalStringMap(what, internal::Member(metadata, field),
                                                          internal::Cat("metadata.", field));
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status Object::CheckKind(std::string_view api_version, std::string_view kind,
                               bool strict) const {
  const std::string_view got_api_version = this->api_version();
  const std::string_view got_kind = this->kind();
  if (!strict) {
    // Lenient: a missing apiVersion/kind is fine, a different one is not.
    if ((got_kind.empty() || got_kind == kind) &&
        (got_api_version.empty() || api_version.empty() || got_api_version == api_version)) {
      return absl::OkStatus();
    }
  } else if (got_kind == kind && (api_version.empty() || got_api_version == api_version)) {
    return absl::OkStatus();
  }
  auto describe = [](std::string_view value) {
    return value.empty() ? std::string("(none)") : internal::Cat("\"", value, "\"");
  };
  return absl::InvalidArgumentError(
      internal::Cat("expected a ", kind, " (apiVersion ", describe(api_version), "), got kind ",
                    describe(got_kind), " with apiVersion ", describe(got_api_version)));
}

std::string_view Object::api_version() const {
  return internal::StringOrEmpty(internal::Member(&document_, "apiVersion"));
}

std::string_view Object::kind() const {
  return internal::StringOrEmpty(internal::Member(&document_, "kind"));
}

std::string_view Object::api_group() const {
  const std::string_view version = api_version();
  const std::size_t slash = version.find('/');
  return slash == std::string_view::npos ? std::string_view() : version.substr(0, slash);
}

std::string_view Object::name() const {
  return internal::StringOrEmpty(
      internal::Member(internal::Member(&document_, "metadata"), "name"));
}

std::string_view Object::namespace_() const {
  return internal::StringOrEmpty(
      internal::Member(internal::Member(&document_, "metadata"), "namespace"));
}

std::string_view Object::uid() const {
  return internal::StringOrEmpty(internal::Member(internal::Member(&document_, "metadata"), "uid"));
}

StringMapView Object::labels() const {
  return StringMapView(internal::Member(internal::Member(&document_, "metadata"), "labels"));
}

StringMapView Object::annotations() const {
  return StringMapView(internal::Member(internal::Member(&document_, "metadata"), "annotations"));
}

nlohmann::json& Object::Edit() {
  // The root snapshot supersedes all others: rebuild the original document
  // from the current one by restoring every edited subtree.
  if (!snapshots_.empty() && snapshots_.front().path.empty()) return document_;
  absl::StatusOr<nlohmann::json*> root = EditTokens({});
  return **root;  // editing the root cannot fail
}

absl::StatusOr<nlohmann::json*> Object::EditAt(std::string_view json_pointer) {
  std::vector<std::string> tokens;
  internal::PointerTokens parser(json_pointer);
  std::string_view token;
  while (parser.Next(token)) tokens.emplace_back(token);
  if (!parser.ok()) {
    return absl::InvalidArgumentError(internal::Cat(
        "malformed JSON pointer \"", json_pointer,
        "\": it must be empty or start with \"/\", and \"~\" must be followed by 0 or 1"));
  }
  try {
    return EditTokens(std::move(tokens));
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while editing a JSON document");
  }
}

absl::StatusOr<nlohmann::json*> Object::EditTokens(std::vector<std::string> tokens) {
  // Dry run: how much of the path exists, and can the rest be created?
  Json* node = &document_;
  std::size_t existing = 0;
  for (; existing < tokens.size(); ++existing) {
    const std::string& token = tokens[existing];
    if (node->is_object()) {
      auto& members = *node->get_ptr<Json::object_t*>();
      auto it = members.find(token);
      if (it == members.end()) break;
      node = &it->second;
    } else if (node->is_array()) {
      auto& elements = *node->get_ptr<Json::array_t*>();
      std::size_t index;
      if (!internal::ParseArrayIndex(token, index) || index >= elements.size()) {
        return absl::InvalidArgumentError(
            internal::Cat("cannot edit ", PointerOf(tokens, tokens.size()), ": ",
                          PointerOf(tokens, existing), " is an array of ", elements.size(),
                          " elements and \"", token, "\" is not one of its indices"));
      }
      node = &elements[index];
    } else if (node->is_null()) {
      break;
    } else {
      return absl::InvalidArgumentError(
          internal::Cat("cannot edit ", PointerOf(tokens, tokens.size()), ": ",
                        PointerOf(tokens, existing), " is ", JsonTypeName(*node)));
    }
  }

  const bool covered = std::any_of(snapshots_.begin(), snapshots_.end(),
                                   [&](const Snapshot& s) { return IsPrefix(s.path, tokens); });
  if (!covered) {
    Snapshot snapshot;
    if (existing == tokens.size()) {
      // The target exists: remember it as sent. Subtrees below it that were
      // edited earlier are restored in the copy and their snapshots dropped.
      snapshot.path = tokens;
      snapshot.original.emplace(*node);
      for (auto it = snapshots_.begin(); it != snapshots_.end();) {
        if (!IsPrefix(tokens, it->path)) {
          ++it;
          continue;
        }
        std::vector<std::string> parent_path(it->path.begin(), it->path.end() - 1);
        Json* parent = Navigate(&*snapshot.original, parent_path, tokens.size());
        if (parent != nullptr) {
          const std::string& last = it->path.back();
          if (it->original.has_value()) {
            if (Json* target = Navigate(parent, {last}, 0); target != nullptr) {
              *target = std::move(*it->original);
            }
          } else if (parent->is_object()) {
            parent->get_ptr<Json::object_t*>()->erase(last);
          }
        }
        it = snapshots_.erase(it);
      }
    } else if (node->is_null()) {
      // A null on the way becomes an object: remember the null.
      snapshot.path.assign(tokens.begin(), tokens.begin() + existing);
      snapshot.original.emplace(nullptr);
      snapshot.created.assign(tokens.begin() + existing, tokens.end());
    } else {
      // A missing member of an object: remember that it was absent.
      snapshot.path.assign(tokens.begin(), tokens.begin() + existing + 1);
      snapshot.created.assign(tokens.begin() + existing + 1, tokens.end());
    }
    // The root snapshot goes first so Edit() can find it cheaply.
    if (snapshot.path.empty()) {
      snapshots_.insert(snapshots_.begin(), std::move(snapshot));
    } else {
      snapshots_.push_back(std::move(snapshot));
    }
  }

  // Create what is missing: intermediate members as objects, the target as
  // null.
  for (std::size_t i = existing; i < tokens.size(); ++i) {
    if (node->is_null()) *node = Json::value_t::object;
    auto& members = *node->get_ptr<Json::object_t*>();
    node = &members.try_emplace(tokens[i]).first->second;
    if (i + 1 < tokens.size()) *node = Json::value_t::object;
  }
  return node;
}

absl::Status Object::EditMetadataMap(std::string_view map, std::string_view key,
                                     std::optional<std::string_view> value) {
  const std::string pointer = internal::Cat("/metadata/", map);
  if (!value.has_value()) {
    // Removing from an absent map is a no-op and must not create it.
    const Json* existing = Find(pointer);
    if (existing == nullptr || !existing->is_object() || !existing->contains(key)) {
      return absl::OkStatus();
    }
  }
  absl::StatusOr<Json*> target = EditAt(pointer);
  if (!target.ok()) return target.status();
  Json& members = **target;
  if (!members.is_null() && !members.is_object()) {
    return absl::FailedPreconditionError(internal::Cat(
        "cannot edit metadata.", map, ": it is ", JsonTypeName(members), ", expected an object"));
  }
  if (value.has_value()) {
    if (members.is_null()) members = Json::value_t::object;
    auto& object = *members.get_ptr<Json::object_t*>();
    auto it = object.find(key);
    if (it == object.end()) {
      object.emplace(std::string(key), std::string(*value));
    } else {
      it->second = std::string(*value);
    }
  } else if (members.is_object()) {
    auto& object = *members.get_ptr<Json::object_t*>();
    auto it = object.find(key);
    if (it != object.end()) object.erase(it);
  }
  return absl::OkStatus();
}

absl::Status Object::SetLabel(std::string_view key, std::string_view value) {
  return EditMetadataMap("labels", key, value);
}

absl::Status Object::SetAnnotation(std::string_view key, std::string_view value) {
  return EditMetadataMap("annotations", key, value);
}

absl::Status Object::RemoveLabel(std::string_view key) {
  return EditMetadataMap("labels", key, std::nullopt);
}

absl::Status Object::RemoveAnnotation(std::string_view key) {
  return EditMetadataMap("annotations", key, std::nullopt);
}

absl::StatusOr<std::string> Object::Patch() const {
  std::string out;
  try {
    PatchWriter writer(out);
    std::string path;
    for (const Snapshot& snapshot : snapshots_) {
      path = PointerOf(snapshot.path, snapshot.path.size());
      const Json* current =
          Navigate(const_cast<Json*>(&document_), snapshot.path, 0);  // read-only use
      if (current != nullptr && !snapshot.created.empty() &&
          (!snapshot.original.has_value() || snapshot.original->is_null()) &&
          IsUntouchedSkeleton(*current, snapshot.created)) {
        continue;  // Edit() created it and nothing was put inside
      }
      if (!snapshot.original.has_value()) {
        if (current != nullptr && !(snapshot.created.empty() && current->is_null())) {
          writer.Op("add", path, current);
        }
      } else if (current == nullptr) {
        writer.Op("remove", path, nullptr);
      } else {
        writer.Diff(*snapshot.original, *current, path);
      }
      if (!writer.ok()) return writer.error();
    }
    writer.Finish();
  } catch (const std::bad_alloc&) {
    return absl::ResourceExhaustedError("out of memory while computing a JSON patch");
  } catch (const std::exception& e) {
    return absl::InternalError(
        internal::Cat("unexpected error while computing a JSON patch: ", e.what()));
  }
  return out;
}

}  // namespace cnpgi
