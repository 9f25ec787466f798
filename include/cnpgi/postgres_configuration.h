// The answer of Postgres.EnrichConfiguration.
//
// The operator sends every plugin the complete postgresql.conf parameter map
// it generated, and replaces its whole map with the last non-empty answer.
// So an answer must be the complete map (the sent one with your changes),
// and, when you change nothing, empty: an unchanged full copy would undo the
// changes of a plugin answering before you.
//
//   cnpgi::PostgresConfiguration config(request);
//   config.Set("archive_timeout", "60s");
//   config.WriteTo(result);   // complete map, or nothing if unchanged
#ifndef CNPGI_POSTGRES_CONFIGURATION_H_
#define CNPGI_POSTGRES_CONFIGURATION_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <cnpgi/identity/v1/postgres.pb.h>

namespace cnpgi {

class PostgresConfiguration {
 public:
  using ConfigMap = google::protobuf::Map<std::string, std::string>;

  // Starts from the map sent; keeps a reference to it (the request must
  // outlive this object). Copies nothing until WriteTo.
  explicit PostgresConfiguration(const identity::v1::EnrichConfigurationRequest& request)
      : sent_(&request.configs()) {}
  explicit PostgresConfiguration(const ConfigMap& sent) : sent_(&sent) {}

  // The current value of `name` (edits applied).
  std::optional<std::string_view> Get(std::string_view name) const;
  void Set(std::string_view name, std::string_view value);
  void Remove(std::string_view name);

  // True if the edits make the map differ from the one sent.
  bool changed() const;

  // The complete map, edits applied.
  ConfigMap Result() const;
  // Writes the complete map into `result` if changed(), else clears it (the
  // operator's "no change").
  void WriteTo(identity::v1::EnrichConfigurationResult& result) const;

 private:
  const ConfigMap* sent_;
  // name -> new value, or nullopt for a removal.
  std::map<std::string, std::optional<std::string>, std::less<>> edits_;
};

}  // namespace cnpgi

#endif  // CNPGI_POSTGRES_CONFIGURATION_H_
