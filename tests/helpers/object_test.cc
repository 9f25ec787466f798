#include "cnpgi/object.h"

#include <random>
#include <string>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_data.h"

namespace cnpgi {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Pair;
using Json = nlohmann::json;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

// The value at `pointer`, for tests that keep editing it across Patch()
// calls (the value stays where it is until an edit above it changes the
// structure: what Object's own edits rely on).
Json& EditedValue(Object& object, std::string_view pointer) {
  static Json failed;
  Json* value = &failed;
  EXPECT_TRUE(object.Edit(pointer, [&value](Json& v) { value = &v; }).ok()) << pointer;
  return *value;
}

// The patch, checked the way the operator uses it: applied (here with
// nlohmann's independent RFC 6902 implementation, which also rejects adds
// below missing parents) to the object as sent, it must give the current
// document.
Json CheckedPatch(const Object& object, const std::string& original_text) {
  absl::StatusOr<std::string> patch = object.Patch();
  EXPECT_TRUE(patch.ok()) << patch.status();
  if (!patch.ok() || patch->empty()) return Json::array();
  const Json operations = Json::parse(*patch);
  EXPECT_EQ(Json::parse(original_text).patch(operations), object.json()) << *patch;
  return operations;
}

class ObjectFixtureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pod_text_ = test::ReadTestData("pod.json");
    absl::StatusOr<Object> pod = Object::Parse(pod_text_);
    ASSERT_TRUE(pod.ok()) << pod.status();
    pod_ = *std::move(pod);
  }

  std::string pod_text_;
  Object pod_ = *Object::Parse("{}");
};

TEST_F(ObjectFixtureTest, Accessors) {
  EXPECT_EQ(pod_.kind(), "Pod");
  EXPECT_EQ(pod_.api_version(), "v1");
  EXPECT_EQ(pod_.api_group(), "");
  EXPECT_EQ(pod_.name(), "pg-orders-1");
  EXPECT_EQ(pod_.namespace_(), "payments");
  EXPECT_FALSE(pod_.uid().empty());
  EXPECT_EQ(pod_.label("cnpg.io/cluster"), "pg-orders");
  EXPECT_EQ(pod_.label("absent"), std::nullopt);
  EXPECT_TRUE(pod_.annotations().contains("cnpg.io/podSpec"));
  EXPECT_EQ(pod_.labels().size(), Json::parse(pod_text_)["metadata"]["labels"].size());
  std::size_t count = 0;
  for (auto [key, value] : pod_.labels()) {
    EXPECT_FALSE(key.empty());
    EXPECT_EQ(pod_.label(key), value);
    ++count;
  }
  EXPECT_EQ(count, pod_.labels().size());
  EXPECT_EQ(*pod_.Find("/spec/containers/0/name"), Json("postgres"));
  EXPECT_FALSE(pod_.edited());
}

TEST_F(ObjectFixtureTest, UnchangedObjectGivesEmptyPatch) {
  EXPECT_EQ(*pod_.Patch(), "");
  // Mutable access without a change still gives no patch.
  ASSERT_TRUE(pod_.Edit("/metadata/labels", [](Json&) {}).ok());
  ASSERT_TRUE(pod_.SetLabel("cnpg.io/cluster", "pg-orders").ok());
  (void)pod_.Edit();
  EXPECT_TRUE(pod_.edited());
  EXPECT_EQ(*pod_.Patch(), "");
}

TEST_F(ObjectFixtureTest, LabelsAndAnnotations) {
  ASSERT_TRUE(pod_.SetAnnotation("example.com/seen", "yes").ok());
  ASSERT_TRUE(pod_.SetLabel("cnpg.io/cluster", "other").ok());
  ASSERT_TRUE(pod_.RemoveAnnotation("prometheus.io/path").ok());
  ASSERT_TRUE(pod_.RemoveLabel("not-there").ok());
  EXPECT_EQ(pod_.annotation("example.com/seen"), "yes");
  const Json patch = CheckedPatch(pod_, pod_text_);
  EXPECT_EQ(patch.size(), 3u) << patch;
  EXPECT_EQ(patch[0], Json::parse(R"({"op":"add","path":"/metadata/annotations/example.com~1seen",
                                      "value":"yes"})"));
}

TEST(ObjectTest, AddsUnderMissingParentsAreValid) {
  const std::string text = R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}})";
  Object pod = *Object::Parse(text);
  ASSERT_TRUE(pod.SetAnnotation("a", "1").ok());
  ASSERT_TRUE(pod.SetLabel("b", "2").ok());
  ASSERT_TRUE(pod.Edit("/spec/securityContext/seccompProfile",
                       [](Json& profile) { profile["type"] = "RuntimeDefault"; })
                  .ok());
  const Json patch = CheckedPatch(pod, text);
  EXPECT_EQ(patch, Json::parse(R"([
    {"op":"add","path":"/metadata/annotations","value":{"a":"1"}},
    {"op":"add","path":"/metadata/labels","value":{"b":"2"}},
    {"op":"add","path":"/spec","value":{"securityContext":{"seccompProfile":{"type":"RuntimeDefault"}}}}
  ])"));
}

TEST(ObjectTest, UntouchedCreatedPathsAreNotPatched) {
  const std::string text = R"({"kind":"Pod","metadata":{}})";
  Object pod = *Object::Parse(text);
  ASSERT_TRUE(pod.Edit("/metadata/annotations", [](Json&) {}).ok());
  ASSERT_TRUE(pod.Edit("/spec/a/b", [](Json&) {}).ok());
  EXPECT_EQ(*pod.Patch(), "");
  ASSERT_TRUE(pod.RemoveLabel("x").ok());  // removal from an absent map creates nothing
  EXPECT_EQ(pod.Find("/metadata/labels"), nullptr);
}

TEST(ObjectTest, NullOnTheWayBecomesAnObject) {
  const std::string text = R"({"kind":"Pod","metadata":{"annotations":null}})";
  Object pod = *Object::Parse(text);
  ASSERT_TRUE(pod.SetAnnotation("a", "b").ok());
  const Json patch = CheckedPatch(pod, text);
  EXPECT_EQ(patch, Json::parse(R"([{"op":"replace","path":"/metadata/annotations",
                                    "value":{"a":"b"}}])"));
}

TEST_F(ObjectFixtureTest, ArrayEditsGiveMinimalOperations) {
  Json& list = EditedValue(pod_, "/spec/initContainers");
  list.insert(list.begin(), Json{{"name", "first"}});  // insert at the front
  Json patch = CheckedPatch(pod_, pod_text_);
  EXPECT_EQ(patch, Json::parse(R"([{"op":"add","path":"/spec/initContainers/0",
                                    "value":{"name":"first"}}])"));
  list.erase(list.begin() + 1);  // remove what was the first element
  patch = CheckedPatch(pod_, pod_text_);
  EXPECT_EQ(patch.size(), 1u) << patch;  // a replace of element 0
  list[1]["image"] = "changed";          // edit an element in place
  patch = CheckedPatch(pod_, pod_text_);
  EXPECT_EQ(patch.back(), Json::parse(R"({"op":"replace","path":"/spec/initContainers/1/image",
                                          "value":"changed"})"));
}

TEST_F(ObjectFixtureTest, ArrayAppendAndTruncate) {
  Json& volumes = EditedValue(pod_, "/spec/volumes");
  volumes.push_back({{"name", "a"}});
  volumes.push_back({{"name", "b"}});
  Json patch = CheckedPatch(pod_, pod_text_);
  ASSERT_EQ(patch.size(), 2u);
  EXPECT_EQ(patch[0]["op"], "add");
  volumes.erase(volumes.begin(), volumes.begin() + 4);
  patch = CheckedPatch(pod_, pod_text_);
  EXPECT_EQ(patch.size(), 6u) << patch;  // four removals, two additions
  for (const Json& op : patch) EXPECT_NE(op["op"], "replace") << patch;
}

TEST_F(ObjectFixtureTest, NestedEditsAreFoldedIntoTheOuterOne) {
  // Edit a leaf, then its ancestor, then the whole document: the patch is
  // still against the object as sent.
  ASSERT_TRUE(pod_.SetAnnotation("x", "1").ok());
  Json& container = EditedValue(pod_, "/spec/containers/0/env");
  container.push_back({{"name", "A"}, {"value", "1"}});
  Json& spec = EditedValue(pod_, "/spec");
  spec["hostname"] = "renamed";
  spec["containers"][0]["env"].push_back({{"name", "B"}, {"value", "2"}});
  CheckedPatch(pod_, pod_text_);
  Json& root = pod_.Edit();
  root["status"]["phase"] = "Running";
  root["metadata"]["annotations"]["y"] = "2";
  const Json patch = CheckedPatch(pod_, pod_text_);
  EXPECT_EQ(patch.size(), 5u) << patch;  // status.phase was Running already
}

TEST_F(ObjectFixtureTest, RemovalOfWholeMembers) {
  Json& spec = EditedValue(pod_, "/spec");
  spec.erase("tolerations");
  spec.erase("affinity");
  const Json patch = CheckedPatch(pod_, pod_text_);
  EXPECT_EQ(patch, Json::parse(R"([{"op":"remove","path":"/spec/affinity"},
                                   {"op":"remove","path":"/spec/tolerations"}])"));
}

TEST_F(ObjectFixtureTest, TypeChangesAreReplaced) {
  Json& spec = EditedValue(pod_, "/spec");
  spec["hostname"] = 5;
  spec["volumes"] = Json::object();
  const Json patch = CheckedPatch(pod_, pod_text_);
  EXPECT_EQ(patch.size(), 2u);
  for (const Json& op : patch) EXPECT_EQ(op["op"], "replace");
}

TEST_F(ObjectFixtureTest, ApiVersionAndKindMustStay) {
  pod_.Edit()["kind"] = "Job";
  absl::StatusOr<std::string> patch = pod_.Patch();
  ASSERT_FALSE(patch.ok());
  EXPECT_EQ(patch.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(patch.status()), HasSubstr("changes kind"));

  Object other = *Object::Parse(pod_text_);
  other.Edit().erase("apiVersion");
  EXPECT_THAT(Message(other.Patch().status()), HasSubstr("changes apiVersion"));

  Object replaced = *Object::Parse(pod_text_);
  replaced.Edit() = Json::array();
  EXPECT_EQ(replaced.Patch().status().code(), absl::StatusCode::kFailedPrecondition);

  Object scoped = *Object::Parse(pod_text_);
  EditedValue(scoped, "/kind") = "Job";
  EXPECT_FALSE(scoped.Patch().ok());
}

TEST_F(ObjectFixtureTest, PatchEscapesPaths) {
  ASSERT_TRUE(pod_.SetAnnotation("a~b/c\"d", "v").ok());
  const Json patch = CheckedPatch(pod_, pod_text_);
  EXPECT_EQ(patch[0]["path"], "/metadata/annotations/a~0b~1c\"d");
}

TEST_F(ObjectFixtureTest, PatchRejectsValuesWithoutJsonText) {
  ASSERT_TRUE(pod_.SetAnnotation("bad", "\xFF").ok());
  absl::StatusOr<std::string> patch = pod_.Patch();
  ASSERT_FALSE(patch.ok());
  EXPECT_EQ(patch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(patch.status()), HasSubstr("not valid UTF-8"));
}

TEST_F(ObjectFixtureTest, EditErrors) {
  EXPECT_THAT(Message(pod_.Edit("metadata", [](Json&) {})), HasSubstr("malformed JSON pointer"));
  EXPECT_THAT(Message(pod_.Edit("/metadata/~2", [](Json&) {})),
              HasSubstr("malformed JSON pointer"));
  EXPECT_THAT(Message(pod_.Edit("/spec/containers/5", [](Json&) {})),
              HasSubstr("/spec/containers is an array of 1 elements"));
  EXPECT_THAT(Message(pod_.Edit("/spec/containers/-", [](Json&) {})), HasSubstr("not one of"));
  EXPECT_THAT(Message(pod_.Edit("/metadata/name/x", [](Json&) {})),
              HasSubstr("/metadata/name is a string"));
  EXPECT_EQ(*pod_.Patch(), "");  // failed edits leave no trace
}

TEST_F(ObjectFixtureTest, SetLabelOnBrokenMetadata) {
  EditedValue(pod_, "/metadata/labels") = Json::array();
  absl::Status status = pod_.SetLabel("a", "b");
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(Message(status), HasSubstr("metadata.labels: it is an array"));
  EXPECT_TRUE(pod_.labels().empty());  // accessors stay total
}

TEST(ObjectTest, StrictAndLenientParsing) {
  const std::string pod = R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}})";
  EXPECT_TRUE(Object::ParseStrict(pod, "v1", "Pod").ok());
  absl::StatusOr<Object> wrong = Object::ParseStrict(pod, "batch/v1", "Job");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(Message(wrong.status()),
              HasSubstr("expected a Job (apiVersion \"batch/v1\"), got kind \"Pod\" with "
                        "apiVersion \"v1\""));
  absl::StatusOr<Object> missing = Object::ParseStrict(R"({"metadata":{}})", "v1", "Pod");
  EXPECT_THAT(Message(missing.status()), HasSubstr("got kind (none) with apiVersion (none)"));
  EXPECT_TRUE(Object::Parse(R"({"metadata":{}})").ok());
  EXPECT_TRUE(Object::Parse("{}").ok());
}

TEST(ObjectTest, BadInputNamesThePath) {
  struct Case {
    const char* text;
    const char* expected;
  };
  const Case cases[] = {
      {"[]", "must be a JSON object, got an array"},
      {"\"x\"", "got a string"},
      {"{\"kind\":5}", "kind: expected a string, got a number"},
      {"{\"metadata\":[]}", "metadata: expected an object, got an array"},
      {"{\"metadata\":{\"name\":{}}}", "metadata.name: expected a string"},
      {"{\"metadata\":{\"labels\":{\"a\":1}}}", "metadata.labels.a: expected a string"},
      {"{\"metadata\":{\"annotations\":{\"cnpg.io/x\":true}}}",
       "metadata.annotations[cnpg.io/x]: expected a string, got a boolean"},
      {"{\"metadata\":{\"labels\":\"x\"}}", "metadata.labels: expected an object"},
      {"{\"a\":", "unexpected end of input"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Object> object = Object::Parse(c.text);
    ASSERT_FALSE(object.ok()) << c.text;
    EXPECT_EQ(object.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(Message(object.status()), HasSubstr(c.expected)) << c.text;
  }
}

TEST(ObjectTest, FromJsonChecksLikeParse) {
  EXPECT_FALSE(Object::FromJson(Json::array()).ok());
  EXPECT_FALSE(Object::FromJson(Json::parse(R"({"metadata":{"name":1}})")).ok());
  Object object = *Object::FromJson(Json::parse(R"({"metadata":{"name":"n"}})"));
  ASSERT_TRUE(object.SetLabel("a", "b").ok());
  EXPECT_EQ(*object.Patch(), R"([{"op":"add","path":"/metadata/labels","value":{"a":"b"}}])");
}

TEST(ObjectTest, CopiesAreIndependent) {
  Object original = *Object::Parse(R"({"metadata":{"labels":{"a":"1"}}})");
  ASSERT_TRUE(original.SetLabel("a", "2").ok());
  Object copy = original;
  ASSERT_TRUE(copy.SetLabel("b", "3").ok());
  EXPECT_EQ(original.label("b"), std::nullopt);
  EXPECT_EQ(Json::parse(*original.Patch()).size(), 1u);
  EXPECT_EQ(Json::parse(*copy.Patch()).size(), 2u);
  Object moved = std::move(copy);
  EXPECT_EQ(Json::parse(*moved.Patch()).size(), 2u);
}

// Pointers of every value below `node` (not apiVersion/kind, which must
// stay).
void CollectPointers(const Json& node, const std::string& pointer, std::vector<std::string>& out) {
  out.push_back(pointer);
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (pointer.empty() && (key == "apiVersion" || key == "kind")) continue;
      std::string child = pointer;
      AppendJsonPointerToken(key, child);
      CollectPointers(value, child, out);
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      CollectPointers(node[i], pointer + "/" + std::to_string(i), out);
    }
  }
}

Json RandomValue(std::mt19937& random) {
  switch (random() % 5) {
    case 0:
      return Json(static_cast<int>(random() % 100));
    case 1:
      return Json("v" + std::to_string(random() % 10));
    case 2:
      return Json::object({{"k" + std::to_string(random() % 3), "x"}});
    case 3:
      return Json::array({1, "two"});
    default:
      return Json(nullptr);
  }
}

void Mutate(Json& node, std::mt19937& random, bool is_root) {
  if (node.is_object() && (is_root || random() % 4 != 0)) {
    if (!node.empty() && random() % 2 == 0) {
      auto it = node.begin();
      std::advance(it, static_cast<std::ptrdiff_t>(random() % node.size()));
      if (!(is_root && (it.key() == "apiVersion" || it.key() == "kind"))) node.erase(it);
    } else {
      node["m/~" + std::to_string(random() % 4)] = RandomValue(random);
    }
  } else if (node.is_array() && random() % 4 != 0) {
    const std::size_t at = node.empty() ? 0 : random() % (node.size() + 1);
    if (!node.empty() && random() % 2 == 0) {
      node.erase(node.begin() + static_cast<std::ptrdiff_t>(std::min(at, node.size() - 1)));
    } else {
      node.insert(node.begin() + static_cast<std::ptrdiff_t>(at), RandomValue(random));
    }
  } else if (!is_root) {
    node = RandomValue(random);
  }
}

// Random edits through every kind of access, in random order: the patch must
// always turn the object as sent into the edited one.
TEST(ObjectPropertyTest, RandomEditsGiveExactPatches) {
  std::mt19937 random(20260801);  // fixed: reproducible
  for (const char* name : {"cluster.json", "pod.json", "backup.json", "job.json"}) {
    const std::string text = test::ReadTestData(name);
    for (int round = 0; round < 150; ++round) {
      Object object = *Object::Parse(text);
      const int edits = 1 + static_cast<int>(random() % 6);
      for (int e = 0; e < edits; ++e) {
        if (random() % 10 == 0) {
          Mutate(object.Edit(), random, /*is_root=*/true);
          continue;
        }
        std::vector<std::string> pointers;
        CollectPointers(object.json(), "", pointers);
        const std::string& pointer = pointers[random() % pointers.size()];
        const absl::Status edited =
            object.Edit(pointer, [&](Json& node) { Mutate(node, random, pointer.empty()); });
        ASSERT_TRUE(edited.ok()) << pointer << ": " << edited;
      }
      CheckedPatch(object, text);
      if (::testing::Test::HasFailure()) {
        FAIL() << name << " round " << round;
      }
    }
  }
}

TEST(StringMapViewTest, EmptyAndNonObject) {
  EXPECT_TRUE(StringMapView().empty());
  const Json array = Json::array();
  EXPECT_TRUE(StringMapView(&array).empty());
  const Json mixed = Json::parse(R"({"a":"x","b":1})");
  StringMapView view(&mixed);
  EXPECT_EQ(view.find("b"), "");  // non-strings read as ""
  std::vector<std::pair<std::string_view, std::string_view>> entries(view.begin(), view.end());
  EXPECT_THAT(entries, ElementsAre(Pair("a", "x"), Pair("b", "")));
}

}  // namespace
}  // namespace cnpgi
