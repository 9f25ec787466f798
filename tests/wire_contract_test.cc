// Checks that the protocol compiled into cnpgi::protocol is wire-identical to
// the CNPG-I contract kept in tests/data/wire-contract.json: every package,
// service, method path, message, field (name, number, type, label, proto3
// optional, oneof), map entry and enum value, and nothing extra.
//
// The compiled descriptors are rendered into the contract's own JSON shape and
// the two documents are compared key by key, so a failure names the exact
// path that drifted, e.g.
//   differs: /messages/cnpgi.wal.v1.WALArchiveRequest/fields/source_file_name/number:
//            contract 2, compiled 7
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cnpgi/backup/v1/backup.pb.h"
#include "cnpgi/identity/v1/identity.pb.h"
#include "cnpgi/identity/v1/postgres.pb.h"
#include "cnpgi/metrics/v1/metrics.pb.h"
#include "cnpgi/operator/v1/operator.pb.h"
#include "cnpgi/operator_lifecycle/v1/operator_lifecycle.pb.h"
#include "cnpgi/reconciler/v1/reconciler.pb.h"
#include "cnpgi/wal/v1/restore_job.pb.h"
#include "cnpgi/wal/v1/wal.pb.h"

namespace {

using nlohmann::json;
namespace pb = google::protobuf;

// One message per compiled .proto file; taking its descriptor also forces the
// file's registration to be linked in from the static library.
std::vector<const pb::FileDescriptor*> CompiledFiles() {
  return {
      cnpgi::identity::v1::ProbeRequest::descriptor()->file(),
      cnpgi::identity::v1::PostgresCapabilitiesRequest::descriptor()->file(),
      cnpgi::operator_::v1::OperatorCapabilitiesRequest::descriptor()->file(),
      cnpgi::operator_lifecycle::v1::OperatorLifecycleRequest::descriptor()->file(),
      cnpgi::wal::v1::WALArchiveRequest::descriptor()->file(),
      cnpgi::wal::v1::RestoreRequest::descriptor()->file(),
      cnpgi::backup::v1::BackupRequest::descriptor()->file(),
      cnpgi::reconciler::v1::ReconcilerHooksRequest::descriptor()->file(),
      cnpgi::metrics::v1::DefineMetricsRequest::descriptor()->file(),
  };
}

std::string LabelName(pb::FieldDescriptor::Label label) {
  switch (label) {
    case pb::FieldDescriptor::LABEL_OPTIONAL:
      return "optional";
    case pb::FieldDescriptor::LABEL_REQUIRED:
      return "required";
    case pb::FieldDescriptor::LABEL_REPEATED:
      return "repeated";
  }
  return "unknown";
}

json EnumValues(const pb::EnumDescriptor& e) {
  json values = json::object();
  for (int i = 0; i < e.value_count(); ++i) values[e.value(i)->name()] = e.value(i)->number();
  return values;
}

void AddMessage(const pb::Descriptor& m, json& messages, json& enums) {
  std::vector<const pb::FieldDescriptor*> fields;
  for (int i = 0; i < m.field_count(); ++i) fields.push_back(m.field(i));
  std::sort(fields.begin(), fields.end(),
            [](auto* a, auto* b) { return a->number() < b->number(); });
  json out_fields = json::array();
  for (const auto* f : fields) {
    json d = {{"name", f->name()},
              {"number", f->number()},
              {"type", pb::FieldDescriptor::TypeName(f->type())},
              {"label", LabelName(f->label())}};
    if (f->message_type() != nullptr) d["type_name"] = f->message_type()->full_name();
    if (f->enum_type() != nullptr) d["type_name"] = f->enum_type()->full_name();
    if (f->has_optional_keyword()) {
      d["proto3_optional"] = true;
    } else if (f->containing_oneof() != nullptr) {
      d["oneof"] = f->containing_oneof()->name();
    }
    out_fields.push_back(std::move(d));
  }
  json entry = {{"fields", std::move(out_fields)}};
  if (m.options().map_entry()) entry["map_entry"] = true;
  messages[m.full_name()] = std::move(entry);
  for (int i = 0; i < m.nested_type_count(); ++i) AddMessage(*m.nested_type(i), messages, enums);
  for (int i = 0; i < m.enum_type_count(); ++i) {
    enums[m.enum_type(i)->full_name()] = EnumValues(*m.enum_type(i));
  }
}

json CompiledContract() {
  json services = json::object(), messages = json::object(), enums = json::object();
  for (const auto* file : CompiledFiles()) {
    for (int s = 0; s < file->service_count(); ++s) {
      const auto& service = *file->service(s);
      json methods = json::object();
      for (int i = 0; i < service.method_count(); ++i) {
        const auto& m = *service.method(i);
        methods[m.name()] = {{"path", "/" + service.full_name() + "/" + m.name()},
                             {"request", m.input_type()->full_name()},
                             {"response", m.output_type()->full_name()},
                             {"client_streaming", m.client_streaming()},
                             {"server_streaming", m.server_streaming()}};
      }
      services[service.full_name()] = std::move(methods);
    }
    for (int i = 0; i < file->message_type_count(); ++i) {
      AddMessage(*file->message_type(i), messages, enums);
    }
    for (int i = 0; i < file->enum_type_count(); ++i) {
      enums[file->enum_type(i)->full_name()] = EnumValues(*file->enum_type(i));
    }
  }
  return {{"services", services}, {"messages", messages}, {"enums", enums}};
}

json LoadContract() {
  std::ifstream in(std::string(CNPGI_TEST_DATA_DIR) + "/wire-contract.json");
  EXPECT_TRUE(in.good()) << "cannot open tests/data/wire-contract.json";
  json contract = json::parse(in);
  contract.erase("_source");
  return contract;
}

// Field lists are compared by field name rather than by position, so that one
// renumbered field reads as one difference and not as a shifted list.
void KeyFieldsByName(json& messages) {
  for (auto& [name, message] : messages.items()) {
    json by_name = json::object();
    for (auto& field : message.at("fields")) by_name[field.at("name").get<std::string>()] = field;
    message["fields"] = std::move(by_name);
  }
}

// Lists every difference between the two documents, one line per path.
void Diff(const json& want, const json& got, const std::string& path,
          std::vector<std::string>& out) {
  if (want.is_object() && got.is_object()) {
    for (const auto& [key, value] : want.items()) {
      if (!got.contains(key)) {
        out.push_back("missing from compiled protocol: " + path + "/" + key);
      } else {
        Diff(value, got.at(key), path + "/" + key, out);
      }
    }
    for (const auto& [key, value] : got.items()) {
      if (!want.contains(key)) out.push_back("extra in compiled protocol: " + path + "/" + key);
    }
    return;
  }
  if (want.is_array() && got.is_array() && want.size() == got.size()) {
    for (size_t i = 0; i < want.size(); ++i) {
      Diff(want[i], got[i], path + "/" + std::to_string(i), out);
    }
    return;
  }
  if (want != got) {
    out.push_back("differs: " + path + ": contract " + want.dump() + ", compiled " + got.dump());
  }
}

class WireContractTest : public ::testing::TestWithParam<std::string> {};

TEST_P(WireContractTest, SectionMatchesContract) {
  const std::string section = GetParam();
  json want = LoadContract().at(section);
  json got = CompiledContract().at(section);
  if (section == "messages") {
    KeyFieldsByName(want);
    KeyFieldsByName(got);
  }
  std::vector<std::string> problems;
  Diff(want, got, "/" + section, problems);
  for (const auto& p : problems) ADD_FAILURE() << p;
  EXPECT_TRUE(problems.empty()) << problems.size() << " difference(s) in " << section;
}

INSTANTIATE_TEST_SUITE_P(Sections, WireContractTest,
                         ::testing::Values("services", "messages", "enums"),
                         [](const auto& info) { return info.param; });

TEST(WireContract, ContractHasOnlyKnownSections) {
  const json contract = LoadContract();
  for (const auto& [key, value] : contract.items()) {
    EXPECT_TRUE(key == "services" || key == "messages" || key == "enums")
        << "the contract has a section this test does not compare: " << key;
  }
}

// The C++ namespace of cnpgi.operator.v1 is renamed to operator_ after
// generation; the package on the wire must be untouched.
TEST(WireContract, KeywordNamespaceRenameKeepsWirePackage) {
  EXPECT_EQ(cnpgi::operator_::v1::OperatorCapabilitiesRequest::descriptor()->file()->package(),
            "cnpgi.operator.v1");
  EXPECT_EQ(cnpgi::operator_::v1::OperatorCapabilitiesRequest::descriptor()->full_name(),
            "cnpgi.operator.v1.OperatorCapabilitiesRequest");
}

// Upstream quirks that must survive any reorganisation of proto/.
TEST(WireContract, UpstreamPackageQuirksAreKept) {
  const auto* pool = pb::DescriptorPool::generated_pool();
  ASSERT_NE(pool->FindServiceByName("cnpgi.identity.v1.Postgres"), nullptr);
  ASSERT_NE(pool->FindServiceByName("cnpgi.wal.v1.RestoreJobHooks"), nullptr);
}

}  // namespace
