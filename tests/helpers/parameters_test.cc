#include "cnpgi/parameters.h"

#include <limits>
#include <string>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace cnpgi {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Json = nlohmann::json;

std::string Message(const absl::Status& status) { return std::string(status.message()); }

class ParametersTest : public ::testing::Test {
 protected:
  Json map_ = Json::parse(R"({
    "bucket": "s3://backups", "empty": "", "mode": "annotate",
    "jobs": "4", "badInt": "4x", "hugeInt": "99999999999999999999",
    "compress": "true", "badBool": "yes",
    "every": "1h30m", "badDuration": "7x",
    "size": "10Gi", "badSize": "10Q",
    "labels": "{\"team\":\"checkout\"}", "badJson": "{", "arrayJson": "[1]"
  })");
  Parameters parameters_{&map_, {"spec", "plugins", "3", "parameters"}};
  ValidationErrors errors_;
};

TEST_F(ParametersTest, RawAccess) {
  EXPECT_EQ(parameters_.Get("bucket"), "s3://backups");
  EXPECT_EQ(parameters_.Get("absent"), std::nullopt);
  EXPECT_TRUE(parameters_.contains("empty"));
  EXPECT_EQ(parameters_.size(), map_.size());
  EXPECT_THAT(parameters_.PathOf("x"), ElementsAre("spec", "plugins", "3", "parameters", "x"));
  EXPECT_TRUE(Parameters().empty());
  EXPECT_THAT(Parameters().PathOf("x"), ElementsAre("parameters", "x"));
}

TEST_F(ParametersTest, Strings) {
  EXPECT_EQ(parameters_.GetString("bucket", errors_, {.required = true}), "s3://backups");
  EXPECT_EQ(parameters_.GetString("absent", errors_), std::nullopt);
  EXPECT_EQ(parameters_.GetString("mode", errors_, {.one_of = {"annotate", "label"}}), "annotate");
  EXPECT_TRUE(errors_.empty());

  EXPECT_EQ(parameters_.GetString("missing", errors_, {.required = true}), std::nullopt);
  EXPECT_EQ(parameters_.GetString("empty", errors_, {.non_empty = true}), std::nullopt);
  EXPECT_EQ(parameters_.GetString("mode", errors_, {.one_of = {"label", "none"}}), std::nullopt);
  ASSERT_EQ(errors_.size(), 3u);
  EXPECT_EQ(errors_[0], (ValidationError{{"spec", "plugins", "3", "parameters", "missing"},
                                         "",
                                         "required parameter is missing"}));
  EXPECT_EQ(errors_[1].message, "must not be empty");
  EXPECT_EQ(errors_[2].value, "annotate");
  EXPECT_EQ(errors_[2].message, R"(invalid value "annotate": must be one of "label", "none")");
}

TEST_F(ParametersTest, Integers) {
  EXPECT_EQ(parameters_.GetInt("jobs", errors_, {.min = 1, .max = 16}), 4);
  EXPECT_EQ(parameters_.GetInt("absent", errors_).value_or(2), 2);
  EXPECT_TRUE(errors_.empty());
  EXPECT_EQ(parameters_.GetInt("jobs", errors_, {.min = 5}), std::nullopt);
  EXPECT_EQ(parameters_.GetInt("jobs", errors_, {.max = 3}), std::nullopt);
  EXPECT_EQ(parameters_.GetInt("badInt", errors_), std::nullopt);
  EXPECT_EQ(parameters_.GetInt("hugeInt", errors_), std::nullopt);
  ASSERT_EQ(errors_.size(), 4u);
  EXPECT_EQ(errors_[0].message, "must be at least 5, got 4");
  EXPECT_EQ(errors_[1].message, "must be at most 3, got 4");
  EXPECT_EQ(errors_[2].message, R"(invalid integer "4x")");
  EXPECT_THAT(errors_[3].message, HasSubstr("out of the 64-bit range"));
}

TEST_F(ParametersTest, Booleans) {
  EXPECT_EQ(parameters_.GetBool("compress", errors_), true);
  EXPECT_EQ(parameters_.GetBool("badBool", errors_), std::nullopt);
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_EQ(errors_[0].ToString(),
            R"(spec.plugins[3].parameters.badBool: invalid boolean "yes": use true or false)");
}

TEST_F(ParametersTest, Durations) {
  EXPECT_EQ(parameters_.GetDuration("every", errors_), absl::Minutes(90));
  EXPECT_EQ(parameters_.GetDuration("every", errors_, {.max = absl::Hours(1)}), std::nullopt);
  EXPECT_EQ(parameters_.GetDuration("badDuration", errors_), std::nullopt);
  ASSERT_EQ(errors_.size(), 2u);
  EXPECT_EQ(errors_[0].message, R"(must be at most 1h, got "1h30m")");
  EXPECT_THAT(errors_[1].message, HasSubstr(R"(invalid duration "7x": unknown unit "x")"));
}

TEST_F(ParametersTest, Quantities) {
  std::optional<Quantity> size = parameters_.GetQuantity("size", errors_, {.min = 1 << 30});
  ASSERT_TRUE(size.has_value());
  EXPECT_EQ(size->value(), 10LL << 30);
  EXPECT_EQ(parameters_.GetQuantity("size", errors_, {.max = 1 << 30}), std::nullopt);
  EXPECT_EQ(parameters_.GetQuantity("badSize", errors_), std::nullopt);
  ASSERT_EQ(errors_.size(), 2u);
  EXPECT_THAT(errors_[1].message, HasSubstr(R"(invalid quantity "10Q": unknown suffix "Q")"));
}

TEST_F(ParametersTest, Json) {
  std::optional<Json> labels = parameters_.GetJson("labels", errors_);
  ASSERT_TRUE(labels.has_value());
  EXPECT_EQ((*labels)["team"], "checkout");
  EXPECT_EQ(parameters_.GetJson("arrayJson", errors_, {.object = false}), Json::parse("[1]"));
  EXPECT_TRUE(errors_.empty());
  EXPECT_EQ(parameters_.GetJson("badJson", errors_), std::nullopt);
  EXPECT_EQ(parameters_.GetJson("arrayJson", errors_), std::nullopt);
  ASSERT_EQ(errors_.size(), 2u);
  EXPECT_THAT(errors_[0].message, HasSubstr("invalid JSON"));
  EXPECT_EQ(errors_[1].message, "must be a JSON object, got an array");
}

TEST_F(ParametersTest, RejectUnknownAndStatus) {
  parameters_.RejectUnknown(
      {"bucket", "empty", "mode", "jobs", "badInt", "hugeInt", "compress", "badBool", "every",
       "badDuration", "size", "badSize", "labels", "badJson"},
      errors_);
  ASSERT_EQ(errors_.size(), 1u);
  EXPECT_EQ(errors_[0].ToString(), "spec.plugins[3].parameters.arrayJson: unknown parameter");
  absl::Status status = errors_.ToStatus();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Message(status),
            "validation failed: spec.plugins[3].parameters.arrayJson: unknown parameter");
  EXPECT_TRUE(ValidationErrors().ToStatus().ok());
  ValidationError custom = parameters_.Error("jobs", "too many for this instance size");
  EXPECT_EQ(custom.value, "4");
}

TEST(ParseDurationTest, Units) {
  EXPECT_EQ(*ParseDuration("0"), absl::ZeroDuration());
  EXPECT_EQ(*ParseDuration("300ms"), absl::Milliseconds(300));
  EXPECT_EQ(*ParseDuration("5min"), absl::Minutes(5));
  EXPECT_EQ(*ParseDuration("5m"), absl::Minutes(5));
  EXPECT_EQ(*ParseDuration("7d"), absl::Hours(168));
  EXPECT_EQ(*ParseDuration("1.5h"), absl::Minutes(90));
  EXPECT_EQ(*ParseDuration("1h2m3s4ms5us6ns"), absl::Hours(1) + absl::Minutes(2) +
                                                   absl::Seconds(3) + absl::Milliseconds(4) +
                                                   absl::Microseconds(5) + absl::Nanoseconds(6));
  EXPECT_EQ(*ParseDuration("2\xC2\xB5s"), absl::Microseconds(2));
  EXPECT_EQ(*ParseDuration("-30s"), absl::Seconds(-30));
  EXPECT_EQ(*ParseDuration(".5s"), absl::Milliseconds(500));
  for (const char* bad : {"", "5", "s", "5 s", "5x", "1h-2m", "1e3s", "-", "..5s",
                          "99999999999999999999h", "999999999h", "5mins"}) {
    absl::StatusOr<absl::Duration> result = ParseDuration(bad);
    EXPECT_FALSE(result.ok()) << bad << " gave " << *result;
    if (!result.ok()) {
      EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(Message(result.status()), HasSubstr("invalid duration"));
    }
  }
}

TEST(ParseBoolTest, GoSpellings) {
  for (const char* yes : {"1", "t", "T", "TRUE", "true", "True"}) EXPECT_TRUE(*ParseBool(yes));
  for (const char* no : {"0", "f", "F", "FALSE", "false", "False"}) EXPECT_FALSE(*ParseBool(no));
  for (const char* bad : {"", "yes", "tRUE", " true"}) EXPECT_FALSE(ParseBool(bad).ok()) << bad;
}

TEST(ParseIntTest, Range) {
  EXPECT_EQ(*ParseInt("+12"), 12);
  EXPECT_EQ(*ParseInt("-9223372036854775808"), std::numeric_limits<std::int64_t>::min());
  for (const char* bad : {"", "+", "++1", "1.0", " 1", "1 ", "0x10", "9223372036854775808"}) {
    EXPECT_FALSE(ParseInt(bad).ok()) << bad;
  }
}

TEST(QuantityTest, KubernetesSuffixes) {
  struct Case {
    const char* text;
    std::int64_t value;
    std::optional<std::int64_t> milli;
  };
  const Case cases[] = {
      {"10Gi", 10LL << 30, (10LL << 30) * 1000},
      {"1Ki", 1024, 1024000},
      {"500M", 500000000, 500000000000},
      {"1.5", 2, 1500},
      {"100m", 1, 100},
      {"1n", 1, 1},
      {"2e3", 2000, 2000000},
      {"2E3", 2000, 2000000},
      {"1E", 1000000000000000000, std::nullopt},  // exa, not an exponent
      {"0.5Ki", 512, 512000},
      {"-1.5", -2, -1500},
      {"+7", 7, 7000},
      {"0", 0, 0},
      {"000.000", 0, 0},
      {"1e-40", 1, 1},
      {"7Ei", 7LL << 60, std::nullopt},
      {".5", 1, 500},
  };
  for (const Case& c : cases) {
    absl::StatusOr<Quantity> q = Quantity::Parse(c.text);
    ASSERT_TRUE(q.ok()) << c.text << ": " << q.status();
    EXPECT_EQ(q->value(), c.value) << c.text;
    EXPECT_EQ(q->milli_value(), c.milli) << c.text;
  }
  for (const char* bad :
       {"", "Gi", "10Q", "10gi", "1.2.3", "10 Gi", "8Ei", "1e", "1e+", "1234567890123456789",
        "12345678901234567800", "1e1001", "--1", "10Mi5"}) {
    absl::StatusOr<Quantity> q = Quantity::Parse(bad);
    EXPECT_FALSE(q.ok()) << bad;
    if (!q.ok()) {
      EXPECT_THAT(Message(q.status()), HasSubstr("invalid quantity"));
    }
  }
}

// Every message that echoes a value stays short whatever the value's size,
// and says how long the value was.
TEST(ParametersValuesTest, MessagesEchoingAHugeValueStayShort) {
  const std::string huge = "7" + std::string(3u << 20, 'x');
  Json map = {{"mode", huge}, {"jobs", huge}, {"every", huge}, {"size", huge}, {"on", huge}};
  Parameters parameters(&map, {"spec", "plugins", "0", "parameters"});
  ValidationErrors errors;
  parameters.GetString("mode", errors, {.one_of = {"a", "b"}});
  parameters.GetInt("jobs", errors);
  parameters.GetDuration("every", errors);
  parameters.GetQuantity("size", errors);
  parameters.GetBool("on", errors);
  ASSERT_EQ(errors.size(), 5u);
  for (const ValidationError& error : errors) {
    EXPECT_LT(error.message.size(), 300u) << error.PathString();
    EXPECT_THAT(error.message, HasSubstr("(3145729 bytes)")) << error.message;
  }
}

}  // namespace
}  // namespace cnpgi
