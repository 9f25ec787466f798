// cnpgi::Object: a Kubernetes object received from the operator, parsed once,
// read through typed accessors, edited in place, and turned into the RFC 6902
// JSON patch the operator applies.
//
// Typical lifecycle hook:
//
//   absl::StatusOr<cnpgi::Object> pod = cnpgi::Object::Parse(request.object_definition());
//   if (!pod.ok()) return pod.status();
//   if (absl::Status s = pod->SetAnnotation("example.com/seen", "yes"); !s.ok()) return s;
//   absl::StatusOr<std::string> patch = pod->Patch();  // "" when nothing changed
//
// How edits become a patch: every mutable access goes through Edit(), which
// first remembers the original value of the subtree it hands out (only that
// subtree: editing an annotation copies metadata.annotations, not the whole
// Pod). Patch() then compares each remembered subtree with its current value.
// So editing costs in proportion to what is edited, and the patch is always
// computed against the object exactly as it was sent, however it was edited.
//
// Ownership: an Object owns its document. What its accessors return borrows
// from it: std::string_view, StringMapView and const nlohmann::json* point
// into the document, valid until the Object is destroyed or that part is
// edited. Copy (std::string(view), a json copy) what must outlive either;
// the names say which is which (a view type, or a pointer). Edit(pointer,
// edit) lends the value for the duration of the call only.
//
// Thread safety: an Object is a value; const methods may run concurrently,
// anything else needs exclusive access.
#ifndef CNPGI_OBJECT_H_
#define CNPGI_OBJECT_H_

#include <cstddef>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cnpgi/json.h"

namespace cnpgi {

// Read-only view of a JSON object whose members are strings, such as
// metadata.labels or spec.plugins[i].parameters. Valid while the document it
// points into is alive and that object is not edited. Members whose value is
// not a string (possible only after an edit) read as "".
class StringMapView {
 public:
  class iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = std::pair<std::string_view, std::string_view>;
    using difference_type = std::ptrdiff_t;
    using pointer = void;
    using reference = value_type;

    iterator() = default;
    value_type operator*() const;
    iterator& operator++() {
      ++it_;
      return *this;
    }
    iterator operator++(int) {
      iterator copy = *this;
      ++it_;
      return copy;
    }
    bool operator==(const iterator& other) const { return it_ == other.it_; }

   private:
    friend class StringMapView;
    explicit iterator(nlohmann::json::object_t::const_iterator it) : it_(it) {}
    nlohmann::json::object_t::const_iterator it_;
  };

  StringMapView() = default;
  // `object` may be nullptr or a non-object: the view is then empty.
  explicit StringMapView(const nlohmann::json* object);

  bool empty() const { return size() == 0; }
  std::size_t size() const;
  bool contains(std::string_view key) const { return find(key).has_value(); }
  std::optional<std::string_view> find(std::string_view key) const;
  iterator begin() const;
  iterator end() const;

 private:
  const nlohmann::json::object_t* members_ = nullptr;
};

class Object {
 public:
  // Parses a Kubernetes object leniently: any JSON object is accepted, and
  // apiVersion/kind may be absent (the operator omits them on some paths).
  // The fields every object shares are checked so that accessors need not
  // fail later: apiVersion, kind, metadata.name, metadata.namespace,
  // metadata.uid must be strings and metadata.labels/annotations objects of
  // strings when present. Errors are InvalidArgument naming the field path.
  static absl::StatusOr<Object> Parse(std::string_view text, const JsonLimits& limits = {});

  // As Parse, and apiVersion and kind must be present and equal to the given
  // ones; otherwise InvalidArgument saying what arrived instead.
  static absl::StatusOr<Object> ParseStrict(std::string_view text, std::string_view api_version,
                                            std::string_view kind, const JsonLimits& limits = {});

  // Takes an already parsed document, with the checks of Parse. The patch of
  // the result is computed against `document`.
  static absl::StatusOr<Object> FromJson(nlohmann::json document);

  Object(const Object&) = default;
  Object& operator=(const Object&) = default;
  Object(Object&&) noexcept = default;
  Object& operator=(Object&&) noexcept = default;
  ~Object() = default;

  // The whole document, read-only. Free: no copy.
  const nlohmann::json& json() const { return document_; }

  // Typed accessors; "" when absent. Views into the document: valid until it
  // is edited there or destroyed.
  std::string_view api_version() const;
  std::string_view kind() const;
  // The API group of apiVersion: "" for "v1", "batch" for "batch/v1".
  std::string_view api_group() const;
  std::string_view name() const;
  std::string_view namespace_() const;
  std::string_view uid() const;
  StringMapView labels() const;
  StringMapView annotations() const;
  std::optional<std::string_view> label(std::string_view key) const { return labels().find(key); }
  std::optional<std::string_view> annotation(std::string_view key) const {
    return annotations().find(key);
  }

  // The value at an RFC 6901 JSON pointer such as "/spec/instances", or
  // nullptr when absent (or when the pointer is malformed).
  const nlohmann::json* Find(std::string_view json_pointer) const {
    return FindJson(document_, json_pointer);
  }

  // Mutable access to the whole document; edit it freely. Costs one deep
  // copy (the original is remembered); prefer Edit(pointer, edit) for local
  // edits.
  nlohmann::json& Edit();

  // Edits the value at an RFC 6901 JSON pointer in place: calls
  // `edit(nlohmann::json&)` with it, and returns what `edit` returns (an
  // absl::Status) or OK (when `edit` returns nothing):
  //
  //   absl::Status s = pod->Edit("/spec", [](nlohmann::json& spec) { spec["hostname"] = "x"; });
  //
  // Missing object members along the path are created: intermediate ones as
  // empty objects, the target itself as null, which nlohmann turns into an
  // object or an array on first use (a target created here and left null is
  // not part of the patch). Array elements must exist ("-" is not accepted).
  // Fails with InvalidArgument, without calling `edit`, when the pointer is
  // malformed or goes through a scalar or a missing array index.
  //
  // The reference is for the duration of the call: keep no pointer to it.
  template <typename F>
  absl::Status Edit(std::string_view json_pointer, F&& edit);

  // Common edits. They fail only when metadata has been edited into a shape
  // that is not a Kubernetes one (e.g. labels turned into an array).
  absl::Status SetLabel(std::string_view key, std::string_view value);
  absl::Status SetAnnotation(std::string_view key, std::string_view value);
  absl::Status RemoveLabel(std::string_view key);
  absl::Status RemoveAnnotation(std::string_view key);

  // True once Edit() has handed out mutable access (even if nothing changed).
  bool edited() const { return !snapshots_.empty(); }

  // The RFC 6902 JSON patch turning the object as sent into its current
  // state, as compact JSON text; "" when nothing changed (the operator's
  // "no change"). Objects that appeared are added whole under their first
  // missing parent, so the patch applies cleanly with RFC 6902 semantics.
  // Errors:
  //  - FailedPrecondition if apiVersion or kind changed, or the document is
  //    no longer an object: the operator must decode the patched object as
  //    the same kind;
  //  - InvalidArgument for a value that has no JSON text (invalid UTF-8,
  //    NaN), naming its path.
  absl::StatusOr<std::string> Patch() const;

 protected:
  explicit Object(nlohmann::json document) : document_(std::move(document)) {}

  // Parses and applies the common checks; `what` names the kind in messages.
  static absl::StatusOr<Object> ParseAs(std::string_view text, const JsonLimits& limits,
                                        std::string_view api_version, std::string_view kind,
                                        bool strict);

  // Shape checks of the fields every object shares.
  absl::Status CheckMetadata() const;

  // For the views: the error a strict or lenient kind check reports.
  absl::Status CheckKind(std::string_view api_version, std::string_view kind, bool strict) const;

  // What Edit(pointer, edit) hands to `edit`. The SDK's own edits use it
  // directly; the pointer stays valid until an edit above it changes the
  // structure (for example a push_back on the enclosing array).
  absl::StatusOr<nlohmann::json*> EditAt(std::string_view json_pointer);

 private:
  // The original value of an edited subtree. `original` is empty when the
  // subtree did not exist; `created` lists the members Edit() created below
  // `path`, so that a skeleton left untouched is not reported.
  struct Snapshot {
    std::vector<std::string> path;
    std::optional<nlohmann::json> original;
    std::vector<std::string> created;
  };

  absl::StatusOr<nlohmann::json*> EditTokens(std::vector<std::string> tokens);
  absl::Status EditMetadataMap(std::string_view map, std::string_view key,
                               std::optional<std::string_view> value);

  nlohmann::json document_;
  std::vector<Snapshot> snapshots_;
};

template <typename F>
absl::Status Object::Edit(std::string_view json_pointer, F&& edit) {
  absl::StatusOr<nlohmann::json*> target = EditAt(json_pointer);
  if (!target.ok()) return target.status();
  if constexpr (std::is_void_v<std::invoke_result_t<F&&, nlohmann::json&>>) {
    std::forward<F>(edit)(**target);
    return absl::OkStatus();
  } else {
    return std::forward<F>(edit)(**target);
  }
}

}  // namespace cnpgi

#endif  // CNPGI_OBJECT_H_
