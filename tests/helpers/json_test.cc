#include "cnpgi/json.h"

#include <cmath>
#include <limits>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_data.h"

namespace cnpgi {
namespace {

using ::testing::HasSubstr;
using Json = nlohmann::json;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

TEST(ParseJsonTest, FixturesMatchNlohmann) {
  for (const char* name : {"cluster.json", "pod.json", "backup.json", "job.json"}) {
    const std::string text = test::ReadTestData(name);
    absl::StatusOr<Json> ours = ParseJson(text);
    ASSERT_TRUE(ours.ok()) << name << ": " << ours.status();
    EXPECT_EQ(*ours, Json::parse(text)) << name;
  }
}

TEST(ParseJsonTest, ScalarsAndTyping) {
  EXPECT_EQ(*ParseJson("true"), Json(true));
  EXPECT_EQ(*ParseJson(" null "), Json(nullptr));
  EXPECT_EQ(ParseJson("18446744073709551615")->type(), Json::value_t::number_unsigned);
  EXPECT_EQ(ParseJson("-9223372036854775808")->type(), Json::value_t::number_integer);
  // Out of 64-bit range: a double, as nlohmann does.
  EXPECT_EQ(ParseJson("18446744073709551616")->type(), Json::value_t::number_float);
  EXPECT_EQ(ParseJson("-0")->type(), Json::value_t::number_integer);
  EXPECT_DOUBLE_EQ(ParseJson("1.5e3")->get<double>(), 1500.0);
  EXPECT_EQ(ParseJson("1e-400")->get<double>(), 0.0);  // underflow rounds to zero
  EXPECT_EQ(*ParseJson("\"a\\u00e9\\ud83d\\ude00\\n\""), Json("a\xC3\xA9\xF0\x9F\x98\x80\n"));
  EXPECT_EQ(*ParseJson("\xEF\xBB\xBF{}"), Json::object());      // BOM
  EXPECT_EQ(*ParseJson(R"({"a":1,"a":2})"), Json({{"a", 2}}));  // last duplicate wins
  EXPECT_EQ(*ParseJson("\"\\u0000\""), Json(std::string(1, '\0')));
}

TEST(ParseJsonTest, LongStringsCrossTheWordScan) {
  for (std::size_t length : {7u, 8u, 9u, 15u, 16u, 17u, 64u}) {
    std::string value(length, 'x');
    value[length - 1] = 'y';
    EXPECT_EQ(*ParseJson("\"" + value + "\""), Json(value));
    std::string escaped = value;
    escaped.insert(length / 2, "\\\"");
    std::string expected = value;
    expected.insert(length / 2, "\"");
    EXPECT_EQ(*ParseJson("\"" + escaped + "\""), Json(expected));
  }
}

TEST(ParseJsonTest, MalformedInputNamesPlace) {
  struct Case {
    std::string text;
    std::string expected;
  };
  const Case cases[] = {
      {"", "empty document"},
      {"   ", "empty document"},
      {"{", "expected a member name"},
      {"{\"a\":1,}", "expected a member name"},
      {"{\"a\" 1}", "expected ':'"},
      {"[1,2", "expected ',' or ']'"},
      {"[1 2]", "expected ',' or ']'"},
      {"{\"a\":1 \"b\":2}", "expected ',' or '}' after member \"a\""},
      {"tru", "expected 'true'"},
      {"nul", "expected 'null'"},
      {"01", "after the end of the JSON value"},
      {"1.", "expected a digit after '.'"},
      {"1e", "expected a digit in the exponent"},
      {"-", "expected a digit"},
      {"+1", "unexpected '+'"},
      {"1e400", "out of the range of a double"},
      {"\"abc", "unterminated string"},
      {"\"a\tb\"", "control character 0x09"},
      {"\"\\x\"", "invalid escape sequence"},
      {"\"\\u12zz\"", "invalid \\u escape"},
      {"\"\\u12", "truncated \\u escape"},
      {"\"\\ud800\"", "high surrogate"},
      {"\"\\udc00\"", "lone low surrogate"},
      {"\"\xC3\"", "invalid UTF-8"},
      {"\"\xED\xA0\x80\"", "invalid UTF-8"},  // encoded surrogate
      {"\"\xC0\xAF\"", "invalid UTF-8"},      // overlong
      {"{} {}", "after the end of the JSON value"},
      {"{\"a\":[1,{\"b\":x}]}", "in a[1].b"},
      {std::string("\x01", 1), "byte 0x01"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Json> result = ParseJson(c.text);
    ASSERT_FALSE(result.ok()) << c.text;
    EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(Message(result.status()), HasSubstr(c.expected)) << c.text;
    EXPECT_THAT(Message(result.status()), HasSubstr("line 1, column")) << c.text;
  }
}

TEST(ParseJsonTest, ErrorPositionCountsLines) {
  absl::StatusOr<Json> result = ParseJson("{\n  \"spec\": {\n    \"x\": ?\n  }\n}");
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(Message(result.status()), HasSubstr("line 3, column 10"));
  EXPECT_THAT(Message(result.status()), HasSubstr("in spec.x"));
}

TEST(ParseJsonTest, DepthIsBounded) {
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  absl::StatusOr<Json> result = ParseJson(deep);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(Message(result.status()), HasSubstr("nesting deeper than the limit of 128"));

  JsonLimits limits;
  limits.max_depth = 3;
  EXPECT_TRUE(ParseJson("[[[1]]]", limits).ok());
  EXPECT_FALSE(ParseJson("[[[[1]]]]", limits).ok());
  EXPECT_FALSE(ParseJson(R"({"a":{"b":{"c":{}}}})", limits).ok());
}

TEST(ParseJsonTest, SizeIsBounded) {
  JsonLimits limits;
  limits.max_bytes = 10;
  absl::StatusOr<Json> result = ParseJson("[1,2,3,4,5,6]", limits);
  ASSERT_FALSE(result.ok());
  EXPECT_THAT(Message(result.status()), HasSubstr("13 bytes exceeds the limit of 10 bytes"));
  // The default limit is 16 MiB.
  const std::string huge = "\"" + std::string((16 << 20) + 1, 'a') + "\"";
  EXPECT_FALSE(ParseJson(huge).ok());
}

TEST(ToJsonTest, RoundTripsFixtures) {
  for (const char* name : {"cluster.json", "pod.json", "backup.json"}) {
    const Json document = Json::parse(test::ReadTestData(name));
    absl::StatusOr<std::string> text = ToJson(document);
    ASSERT_TRUE(text.ok()) << text.status();
    EXPECT_EQ(Json::parse(*text), document);
    EXPECT_EQ(*text, document.dump());  // same compact form as nlohmann's
  }
}

TEST(ToJsonTest, EscapesAndNumbers) {
  EXPECT_EQ(*ToJson(Json("a\"b\\c\n\x01\xC3\xA9")), "\"a\\\"b\\\\c\\n\\u0001\xC3\xA9\"");
  EXPECT_EQ(*ToJson(Json(2.0)), "2");  // integral doubles decode into Go int fields
  EXPECT_EQ(*ToJson(Json(0.1)), "0.1");
  EXPECT_EQ(*ToJson(Json(-5)), "-5");
  EXPECT_EQ(*ToJson(Json(18446744073709551615ULL)), "18446744073709551615");
  EXPECT_EQ(*ToJson(Json::parse(R"({"b":[],"a":{}})")), R"({"a":{},"b":[]})");
}

TEST(ToJsonTest, RejectsValuesWithoutJsonText) {
  absl::StatusOr<std::string> nan = ToJson(Json({{"spec", {{"x", std::nan("")}}}}));
  ASSERT_FALSE(nan.ok());
  EXPECT_THAT(Message(nan.status()), HasSubstr("at spec.x"));
  EXPECT_THAT(Message(nan.status()), HasSubstr("NaN"));
  absl::StatusOr<std::string> bad_utf8 = ToJson(Json({{"a", {1, "\xFF"}}}));
  ASSERT_FALSE(bad_utf8.ok());
  EXPECT_THAT(Message(bad_utf8.status()), HasSubstr("at a[1]: string is not valid UTF-8"));
  EXPECT_FALSE(ToJson(Json({{"\xFF", 1}})).ok());
  EXPECT_FALSE(ToJson(Json::binary({1, 2})).ok());
  EXPECT_FALSE(ToJson(Json(std::numeric_limits<double>::infinity())).ok());
}

TEST(FindJsonTest, FollowsPointers) {
  const Json document = Json::parse(R"({"a":{"b/c":[10,{"~d":true}]},"":1})");
  EXPECT_EQ(FindJson(document, ""), &document);
  EXPECT_EQ(*FindJson(document, "/a/b~1c/0"), Json(10));
  EXPECT_EQ(*FindJson(document, "/a/b~1c/1/~0d"), Json(true));
  EXPECT_EQ(*FindJson(document, "/"), Json(1));
  EXPECT_EQ(FindJson(document, "/a/b~1c/2"), nullptr);
  EXPECT_EQ(FindJson(document, "/a/b~1c/01"), nullptr);
  EXPECT_EQ(FindJson(document, "/a/b~1c/-"), nullptr);
  EXPECT_EQ(FindJson(document, "/a/x"), nullptr);
  EXPECT_EQ(FindJson(document, "a"), nullptr);
  EXPECT_EQ(FindJson(document, "/a/b~2c"), nullptr);
  EXPECT_EQ(FindJson(document, "/a/b~1c/0/x"), nullptr);
}

TEST(JsonPointerTest, EscapesTokens) {
  std::string out;
  AppendJsonPointerToken("cnpg.io/podSpec", out);
  AppendJsonPointerToken("a~b", out);
  EXPECT_EQ(out, "/cnpg.io~1podSpec/a~0b");
}

}  // namespace
}  // namespace cnpgi
