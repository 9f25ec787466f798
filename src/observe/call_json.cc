#include "observe/call_json.h"

#include <google/protobuf/util/json_util.h>

#include <utility>

#include "absl/strings/escaping.h"

namespace cnpgi::internal {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;

bool IsWellKnown(const Descriptor* type) { return type->file()->package() == "google.protobuf"; }

// Decodes a bytes value of the JSON mapping; when it holds a JSON object or
// array, that replaces it.
void ExpandBytes(OrderedJson& value) {
  if (!value.is_string()) return;
  std::string decoded;
  const std::string& text = value.get_ref<const std::string&>();
  if (!absl::Base64Unescape(absl::string_view(text.data(), text.size()), &decoded)) return;
  if (decoded.empty() || (decoded.front() != '{' && decoded.front() != '[' &&
                          decoded.front() != ' ' && decoded.front() != '\n')) {
    return;
  }
  if (NestedDeeperThan(decoded, kMaxExpandedDepth)) return;
  OrderedJson parsed = OrderedJson::parse(decoded, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() || parsed.is_array()) value = std::move(parsed);
}

void CollapseBytes(OrderedJson& value) {
  if (!value.is_object() && !value.is_array()) return;
  const std::string text = value.dump();
  value = absl::Base64Escape(absl::string_view(text.data(), text.size()));
}

template <class Fix>
void Walk(OrderedJson& json, const Descriptor* type, const Fix& fix) {
  if (!json.is_object() || IsWellKnown(type)) return;
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* field = type->field(i);
    auto it = json.find(field->json_name());
    if (it == json.end()) it = json.find(field->name());
    if (it == json.end()) continue;
    OrderedJson& value = *it;
    if (field->is_map()) {
      const FieldDescriptor* mapped = field->message_type()->map_value();
      if (!value.is_object()) continue;
      for (auto& [key, item] : value.items()) {
        (void)key;
        if (mapped->type() == FieldDescriptor::TYPE_MESSAGE) {
          Walk(item, mapped->message_type(), fix);
        } else if (mapped->type() == FieldDescriptor::TYPE_BYTES) {
          fix(item);
        }
      }
      continue;
    }
    const auto visit = [&](OrderedJson& item) {
      if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
        Walk(item, field->message_type(), fix);
      } else if (field->type() == FieldDescriptor::TYPE_BYTES) {
        fix(item);
      }
    };
    if (field->is_repeated()) {
      if (!value.is_array()) continue;
      for (auto& item : value) visit(item);
    } else {
      visit(value);
    }
  }
}

}  // namespace

bool NestedDeeperThan(std::string_view json, int limit) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > limit) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

const google::protobuf::MethodDescriptor* FindMethodByPath(std::string_view path) {
  if (path.size() < 3 || path.front() != '/') return nullptr;
  std::string name(path.substr(1));
  const std::size_t slash = name.rfind('/');
  if (slash == std::string::npos) return nullptr;
  name[slash] = '.';
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(name);
}

std::unique_ptr<google::protobuf::Message> NewMessage(const Descriptor* type) {
  const google::protobuf::Message* prototype =
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type);
  if (prototype == nullptr) return nullptr;
  return std::unique_ptr<google::protobuf::Message>(prototype->New());
}

OrderedJson ToExpandedJson(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  // The generated messages of the protocol always print (no Any fields
  // with unknown types), so the status needs no handling beyond an empty
  // object.
  if (!google::protobuf::util::MessageToJsonString(message, &text, options).ok()) {
    return OrderedJson::object();
  }
  OrderedJson json = OrderedJson::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return OrderedJson::object();
  Walk(json, message.GetDescriptor(), ExpandBytes);
  return json;
}

absl::Status FromExpandedJson(const OrderedJson& json, google::protobuf::Message& message) {
  if (!json.is_object()) {
    return absl::InvalidArgumentError(std::string("a ") + message.GetDescriptor()->full_name() +
                                      " must be a JSON object");
  }
  OrderedJson copy = json;
  Walk(copy, message.GetDescriptor(), CollapseBytes);
  google::protobuf::util::JsonParseOptions options;
  const auto status = google::protobuf::util::JsonStringToMessage(copy.dump(), &message, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(std::string("not a valid ") +
                                      message.GetDescriptor()->full_name() + ": " +
                                      std::string(status.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<OrderedJson> BytesToExpandedJson(const Descriptor* type, const std::string& bytes) {
  std::unique_ptr<google::protobuf::Message> message = NewMessage(type);
  if (!message || !message->ParseFromString(bytes)) {
    return absl::InvalidArgumentError(std::string("not a valid ") + type->full_name() + " message");
  }
  return ToExpandedJson(*message);
}

}  // namespace cnpgi::internal
