// GoogleTest and GoogleMock helpers for plugin tests (header-only: link
// GTest::gmock yourself; cnpgi::testing does not depend on GoogleTest).
//
//   #include <cnpgi/testing/gtest.h>
//
//   class HelloTest : public cnpgi::test::PluginTest {
//     cnpgi::PluginServer MakePlugin() override {
//       return cnpgi::PluginServer(kMetadata).Add(std::make_shared<HelloLifecycle>());
//     }
//   };
//
//   TEST_F(HelloTest, EvaluateAddsTheLabel) {
//     auto pod = client().LifecycleHook(cnpgi::LifecycleOperation::kEvaluate,
//                                       kit().cluster(), kit().pod());
//     EXPECT_THAT(pod, cnpgi::test::HasLabel("hello", "world"));
//   }
//
// Naming: the kit's namespace is cnpgi::test (the headers are under
// cnpgi/testing/ and the CMake target is cnpgi::testing), so that
// `testing::` stays GoogleTest's in a test file, even inside
// `namespace cnpgi` or after `using namespace cnpgi;`.
#ifndef CNPGI_TESTING_GTEST_H_
#define CNPGI_TESTING_GTEST_H_

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cnpgi/testing/plugin_kit.h"

namespace cnpgi::test {
namespace gtest_internal {

inline const absl::Status& StatusOf(const absl::Status& status) { return status; }
template <class T>
const absl::Status& StatusOf(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

// The PatchedObject in `arg`, or nullptr (explained) when `arg` is an error.
inline const PatchedObject* Patched(const PatchedObject& object, ::testing::MatchResultListener*) {
  return &object;
}
inline const PatchedObject* Patched(const absl::StatusOr<PatchedObject>& object,
                                    ::testing::MatchResultListener* listener) {
  if (object.ok()) return &*object;
  *listener << "which is an error: " << object.status();
  return nullptr;
}

inline const nlohmann::json* NamedEntry(const PatchedObject& object, const std::string& list,
                                        const std::string& name) {
  if (list == "containers") return object.FindContainer(name);
  if (list == "initContainers") return object.FindInitContainer(name);
  return object.FindVolume(name);
}

}  // namespace gtest_internal

// The call succeeded: works on absl::Status and absl::StatusOr<T>, and shows
// the error otherwise.
//   EXPECT_THAT(client.Probe(), IsOk());
MATCHER(IsOk, negation ? "is an error" : "is OK") {
  const absl::Status& status = gtest_internal::StatusOf(arg);
  if (!status.ok()) *result_listener << "which is " << status;
  return status.ok();
}

// The call failed with `code` (and, optionally, a message matching
// `message_matcher`).
//   EXPECT_THAT(client.RestoreWal(...), StatusIs(absl::StatusCode::kNotFound));
//   EXPECT_THAT(r, StatusIs(absl::StatusCode::kInvalidArgument, ::testing::HasSubstr("bucket")));
MATCHER_P(StatusIs, code, "has status code " + absl::StatusCodeToString(code)) {
  const absl::Status& status = gtest_internal::StatusOf(arg);
  *result_listener << "which is " << status;
  return status.code() == code;
}
MATCHER_P2(StatusIs, code, message_matcher,
           "has status code " + absl::StatusCodeToString(code) + " and a message that " +
               ::testing::DescribeMatcher<std::string>(message_matcher)) {
  const absl::Status& status = gtest_internal::StatusOf(arg);
  *result_listener << "which is " << status;
  return status.code() == code &&
         ::testing::Matches(message_matcher)(std::string(status.message()));
}

// A StatusOr holding a value that matches.
//   EXPECT_THAT(client.SetStatusInCluster(cluster), IsOkAndHolds(::testing::Eq(std::nullopt)));
MATCHER_P(IsOkAndHolds, value_matcher,
          negation ? "is an error or holds a value that does not match"
                   : "is OK and holds a value that matches") {
  if (!arg.ok()) {
    *result_listener << "which is " << arg.status();
    return false;
  }
  return ::testing::ExplainMatchResult(value_matcher, *arg, result_listener);
}

// Matchers of a PatchedObject, or of the StatusOr<PatchedObject> a call
// returns (an error then fails the expectation and is shown).
//   EXPECT_THAT(pod, HasLabel("app", "db"));
//   EXPECT_THAT(pod, HasInitContainer("plugin-sidecar"));
//   EXPECT_THAT(pod, JsonAt("/spec/containers/0/env/0/name", "PGDATA"));
MATCHER_P2(HasLabel, key, value,
           std::string(negation ? "has no" : "has") + " label " + std::string(key) + "=" +
               std::string(value)) {
  const PatchedObject* object = gtest_internal::Patched(arg, result_listener);
  if (object == nullptr) return false;
  const std::optional<std::string> found = object->label(key);
  if (!found) {
    *result_listener << "which has no label " << key;
    return false;
  }
  *result_listener << "whose label " << key << " is \"" << *found << "\"";
  return *found == value;
}
MATCHER_P2(HasAnnotation, key, value,
           std::string(negation ? "has no" : "has") + " annotation " + std::string(key) + "=" +
               std::string(value)) {
  const PatchedObject* object = gtest_internal::Patched(arg, result_listener);
  if (object == nullptr) return false;
  const std::optional<std::string> found = object->annotation(key);
  if (!found) {
    *result_listener << "which has no annotation " << key;
    return false;
  }
  *result_listener << "whose annotation " << key << " is \"" << *found << "\"";
  return *found == value;
}
MATCHER_P(HasContainer, name,
          std::string(negation ? "has no" : "has") + " container " + std::string(name)) {
  const PatchedObject* object = gtest_internal::Patched(arg, result_listener);
  return object != nullptr && gtest_internal::NamedEntry(*object, "containers", name) != nullptr;
}
MATCHER_P(HasInitContainer, name,
          std::string(negation ? "has no" : "has") + " init container " + std::string(name)) {
  const PatchedObject* object = gtest_internal::Patched(arg, result_listener);
  return object != nullptr &&
         gtest_internal::NamedEntry(*object, "initContainers", name) != nullptr;
}
MATCHER_P(HasVolume, name,
          std::string(negation ? "has no" : "has") + " volume " + std::string(name)) {
  const PatchedObject* object = gtest_internal::Patched(arg, result_listener);
  return object != nullptr && gtest_internal::NamedEntry(*object, "volumes", name) != nullptr;
}
// The value at an RFC 6901 pointer of the patched object matches (a plain
// value means equality; absent members read as null).
MATCHER_P2(JsonAt, pointer, value_matcher,
           std::string("has at ") + std::string(pointer) + " a value that " +
               ::testing::DescribeMatcher<nlohmann::json>(value_matcher)) {
  const PatchedObject* object = gtest_internal::Patched(arg, result_listener);
  if (object == nullptr) return false;
  const nlohmann::json value = object->At(pointer);
  *result_listener << "whose value there is " << value.dump();
  return ::testing::Matches(value_matcher)(value);
}
// The answer left the object as it was (no patch, or a patch without effect).
MATCHER(Unchanged, negation ? "was changed" : "was left unchanged") {
  const PatchedObject* object = gtest_internal::Patched(arg, result_listener);
  if (object == nullptr) return false;
  if (object->changed()) *result_listener << "which changed " << object->DescribeChange();
  return !object->changed();
}

// A fixture that starts the plugin of MakePlugin() for each test and stops
// it afterwards. A subclass overriding SetUp/TearDown must call these.
class PluginTest : public ::testing::Test {
 protected:
  // The plugin under test, built afresh for each test.
  virtual PluginServer MakePlugin() = 0;
  // Timeouts, the plugin's parameters in the fixture Cluster, log level.
  virtual KitOptions MakeKitOptions() { return {}; }

  void SetUp() override {
    absl::StatusOr<PluginKit> kit = PluginKit::Start(MakePlugin(), MakeKitOptions());
    ASSERT_TRUE(kit.ok()) << kit.status();
    kit_.emplace(*std::move(kit));
  }
  void TearDown() override { kit_.reset(); }

  PluginKit& kit() { return *kit_; }
  PluginClient& client() { return kit_->client(); }

 private:
  std::optional<PluginKit> kit_;
};

}  // namespace cnpgi::test

// ASSERT/EXPECT that an absl::Status or absl::StatusOr is OK, showing the
// error otherwise.
#define CNPGI_EXPECT_OK(expression) EXPECT_THAT((expression), ::cnpgi::test::IsOk())
#define CNPGI_ASSERT_OK(expression) ASSERT_THAT((expression), ::cnpgi::test::IsOk())

// Declares or assigns `lhs` from an absl::StatusOr, failing the test (and
// returning) when it is an error:
//   CNPGI_ASSERT_OK_AND_ASSIGN(auto pod, client().LifecycleHook(...));
#define CNPGI_ASSERT_OK_AND_ASSIGN(lhs, expression)                                        \
  CNPGI_ASSERT_OK_AND_ASSIGN_IMPL_(CNPGI_TESTING_CONCAT_(cnpgi_status_or_, __LINE__), lhs, \
                                   expression)
#define CNPGI_ASSERT_OK_AND_ASSIGN_IMPL_(status_or, lhs, expression)        \
  auto status_or = (expression);                                            \
  ASSERT_TRUE(status_or.ok()) << #expression << ": " << status_or.status(); \
  lhs = *std::move(status_or)
#define CNPGI_TESTING_CONCAT_(a, b) CNPGI_TESTING_CONCAT_IMPL_(a, b)
#define CNPGI_TESTING_CONCAT_IMPL_(a, b) a##b

#endif  // CNPGI_TESTING_GTEST_H_
