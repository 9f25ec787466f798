#include "cnpgi/postgres_configuration.h"

namespace cnpgi {

std::optional<std::string_view> PostgresConfiguration::Get(std::string_view name) const {
  if (auto edit = edits_.find(name); edit != edits_.end()) {
    if (!edit->second.has_value()) return std::nullopt;
    return std::string_view(*edit->second);
  }
  auto it = sent_->find(name);
  if (it == sent_->end()) return std::nullopt;
  return std::string_view(it->second);
}

void PostgresConfiguration::Set(std::string_view name, std::string_view value) {
  edits_.insert_or_assign(std::string(name), std::optional<std::string>(std::string(value)));
}

void PostgresConfiguration::Remove(std::string_view name) {
  edits_.insert_or_assign(std::string(name), std::optional<std::string>());
}

bool PostgresConfiguration::changed() const {
  for (const auto& [name, value] : edits_) {
    auto it = sent_->find(name);
    const bool present = it != sent_->end();
    if (value.has_value() ? (!present || it->second != *value) : present) return true;
  }
  return false;
}

PostgresConfiguration::ConfigMap PostgresConfiguration::Result() const {
  ConfigMap result(*sent_);
  for (const auto& [name, value] : edits_) {
    if (value.has_value()) {
      result[name] = *value;
    } else {
      result.erase(name);
    }
  }
  return result;
}

void PostgresConfiguration::WriteTo(identity::v1::EnrichConfigurationResult& result) const {
  result.clear_configs();
  if (!changed()) return;
  ConfigMap& out = *result.mutable_configs();
  out = *sent_;
  for (const auto& [name, value] : edits_) {
    if (value.has_value()) {
      out[name] = *value;
    } else {
      out.erase(name);
    }
  }
}

}  // namespace cnpgi
