#include "cnpgi/logging.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <limits>
#include <new>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "spdlog/sinks/ostream_sink.h"

// Counts heap allocations, to hold Logger to its promise that a call below
// the level allocates nothing.
namespace {
std::atomic<long> g_allocations{0};
}  // namespace

// GCC sees through the replacement and takes malloc/free here for a
// mismatch with operator new/delete; they are matched by construction.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace cnpgi {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using json = nlohmann::json;

// A logger writing into a string, through the same spdlog path as stderr.
struct Captured {
  std::ostringstream stream;
  std::shared_ptr<spdlog::logger> spdlog;
  Logger logger;

  Captured(LogFormat format, spdlog::level::level_enum level = spdlog::level::trace,
           std::string name = "cnpgi")
      : spdlog(MakeLogger(std::move(name), format, level,
                          std::make_shared<spdlog::sinks::ostream_sink_mt>(stream))),
        logger(spdlog) {}

  std::vector<std::string> Lines() const {
    std::vector<std::string> lines;
    std::istringstream in(stream.str());
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  // The single line written so far.
  std::string Line() const {
    const std::vector<std::string> lines = Lines();
    EXPECT_EQ(lines.size(), 1u) << stream.str();
    EXPECT_TRUE(stream.str().ends_with("\n"));
    return lines.empty() ? "" : lines.back();
  }

  json Json() const {
    const std::string line = Line();
    json parsed = json::parse(line, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(parsed.is_discarded()) << "not JSON: " << line;
    EXPECT_TRUE(parsed.is_object()) << line;
    return parsed;
  }
};

// The strings that have broken log formats before: quotes, escapes, line
// breaks, control characters, invalid and overlong UTF-8, surrogates encoded
// in UTF-8, a NUL in the middle, and a copy of our own field encoding.
std::vector<std::string> NastyStrings() {
  return {
      "",
      "plain",
      "with space",
      "\"quoted\"",
      "back\\slash",
      "line\nbreak\r\nand\ttab",
      std::string("nul\0inside", 10),
      "\x01\x02\x1b[31mred\x1b[0m\x7f",
      "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x90\x98",
      "bad \xff\xfe utf8",
      "truncated \xe2\x82",
      "overlong \xc0\xaf and \xe0\x80\xaf",
      "surrogate \xed\xa0\x80",
      "too big \xf4\x90\x80\x80",
      "key=value",
      "}\"{,\"level\":\"fake\"",
      "\u2028\u2029",
      std::string("\xff\x1f"
                  "cnpgi\x01\x05\x00\x00\x00hello",
                  17),
      std::string("\xff\x1f"
                  "cnpgi\x01\x05\x00\x00\x00hello\x01\x01\x00\x00\x00k",
                  23),
      std::string(5000, 'x') + "\n" + std::string(5000, 'y'),
  };
}

// True for "YYYY-MM-DDTHH:MM:SS.<fraction_digits digits>Z". (std::regex
// would do, but GCC 12 warns inside it in sanitizer builds.)
bool IsTimestamp(std::string_view ts, std::size_t fraction_digits) {
  const std::string pattern = "dddd-dd-ddTdd:dd:dd." + std::string(fraction_digits, 'd') + "Z";
  if (ts.size() != pattern.size()) return false;
  for (std::size_t i = 0; i < ts.size(); ++i) {
    const bool ok = pattern[i] == 'd' ? (ts[i] >= '0' && ts[i] <= '9') : ts[i] == pattern[i];
    if (!ok) return false;
  }
  return true;
}

bool IsValidUtf8(const std::string& s) {
  try {
    (void)json(s).dump();
    return true;
  } catch (const json::type_error&) {
    return false;
  }
}

// Checks how `original` came back from a JSON line: unchanged when it was
// valid UTF-8, else with U+FFFD in place of the bad bytes and the valid text
// before them intact.
void ExpectRoundTrip(const json& value, const std::string& original) {
  ASSERT_TRUE(value.is_string()) << value;
  const std::string got = value.get<std::string>();
  if (IsValidUtf8(original)) {
    EXPECT_EQ(got, original);
    return;
  }
  EXPECT_THAT(got, HasSubstr("\xef\xbf\xbd"));
  std::size_t bad = original.size();
  while (bad > 0 && !IsValidUtf8(original.substr(0, bad))) --bad;
  EXPECT_EQ(got.substr(0, bad), original.substr(0, bad));
}

TEST(LoggingTest, JsonLineCarriesLevelTimestampMessageLoggerAndFields) {
  Captured out(LogFormat::kJson, spdlog::level::info, "my-plugin");
  out.logger.Info("call failed", {{"method", "/cnpgi.wal.v1.WAL/Archive"},
                                  {"code", absl::StatusCode::kNotFound},
                                  {"duration", absl::Microseconds(1200)},
                                  {"message", "segment 000000010000000000000001 not found"},
                                  {"attempt", 3},
                                  {"bytes", std::uint64_t{18446744073709551615u}},
                                  {"offset", std::int64_t{-9223372036854775807 - 1}},
                                  {"ratio", 0.25},
                                  {"primary", true},
                                  {"archived", false}});
  const json line = out.Json();
  EXPECT_EQ(line["level"], "info");
  EXPECT_EQ(line["msg"], "call failed");
  EXPECT_EQ(line["logger"], "my-plugin");
  EXPECT_EQ(line["method"], "/cnpgi.wal.v1.WAL/Archive");
  EXPECT_EQ(line["code"], "NOT_FOUND");
  EXPECT_EQ(line["duration"], "1.2ms");
  EXPECT_EQ(line["message"], "segment 000000010000000000000001 not found");
  EXPECT_EQ(line["attempt"], 3);
  EXPECT_TRUE(line["attempt"].is_number_integer());
  EXPECT_EQ(line["bytes"].get<std::uint64_t>(), 18446744073709551615u);
  EXPECT_EQ(line["offset"].get<std::int64_t>(), std::numeric_limits<std::int64_t>::min());
  EXPECT_EQ(line["ratio"], 0.25);
  EXPECT_EQ(line["primary"], true);
  EXPECT_EQ(line["archived"], false);
  // CloudNativePG's order: level, ts, msg, logger, then the fields.
  EXPECT_THAT(out.Line(), StartsWith("{\"level\":\"info\",\"ts\":\""));
  EXPECT_THAT(out.Line(),
              HasSubstr(",\"msg\":\"call failed\",\"logger\":\"my-plugin\",\"method\""));
}

TEST(LoggingTest, JsonTimestampIsRfc3339UtcWithFractionAndCurrent) {
  Captured out(LogFormat::kJson);
  const auto before = std::chrono::system_clock::now();
  out.logger.Info("tick");
  const json line = out.Json();
  ASSERT_TRUE(line["ts"].is_string());
  const std::string ts = line["ts"];
  EXPECT_TRUE(IsTimestamp(ts, 6)) << ts;
  // Read it back and compare with the clock: the date must be today's UTC date.
  std::tm tm{};
  ASSERT_NE(strptime(ts.c_str(), "%Y-%m-%dT%H:%M:%S", &tm), nullptr);
  const auto logged = std::chrono::system_clock::from_time_t(timegm(&tm)) +
                      std::chrono::microseconds(std::stoi(ts.substr(20, 6)));
  EXPECT_LE(std::chrono::abs(logged - before), std::chrono::seconds(5));
  EXPECT_GE(logged + std::chrono::microseconds(1), before);
}

TEST(LoggingTest, JsonLevelNames) {
  Captured out(LogFormat::kJson, spdlog::level::trace);
  out.logger.Trace("t");
  out.logger.Debug("d");
  out.logger.Info("i");
  out.logger.Warn("w");
  out.logger.Error("e");
  out.logger.Log(spdlog::level::critical, "c");
  const std::vector<std::string> lines = out.Lines();
  ASSERT_EQ(lines.size(), 6u);
  const std::vector<std::string> expected = {"trace", "debug", "info", "warn", "error", "critical"};
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(json::parse(lines[i])["level"], expected[i]) << lines[i];
  }
}

TEST(LoggingTest, NastyStringsStayOneValidJsonLine) {
  for (const std::string& nasty : NastyStrings()) {
    Captured out(LogFormat::kJson);
    out.logger.Warn(nasty, {{"value", nasty}, {nasty, "as a key"}});
    const std::string text = out.stream.str();
    ASSERT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
    const json line = out.Json();
    ExpectRoundTrip(line["msg"], nasty);
    ExpectRoundTrip(line["value"], nasty);
    // Field keys are escaped too.
    if (!nasty.empty() && IsValidUtf8(nasty) && nasty.find("level") == std::string::npos) {
      EXPECT_EQ(line[nasty], "as a key");
    }
    EXPECT_EQ(line["level"], "warn");
  }
}

TEST(LoggingTest, JsonKeepsValidUtf8AsIs) {
  Captured out(LogFormat::kJson);
  out.logger.Info("caf\xc3\xa9 \xf0\x9f\x90\x98");
  EXPECT_THAT(out.Line(), HasSubstr("\"msg\":\"caf\xc3\xa9 \xf0\x9f\x90\x98\""));
}

TEST(LoggingTest, JsonFieldsCannotShadowTheRecordKeys) {
  Captured out(LogFormat::kJson, spdlog::level::info, "real");
  out.logger.Info("real message",
                  {{"msg", "fake"}, {"level", "fake"}, {"logger", "fake"}, {"ts", "fake"}});
  const json line = out.Json();
  EXPECT_EQ(line["msg"], "real message");
  EXPECT_EQ(line["level"], "info");
  EXPECT_EQ(line["logger"], "real");
  EXPECT_NE(line["ts"], "fake");
  EXPECT_EQ(line["field.msg"], "fake");
  EXPECT_EQ(line["field.ts"], "fake");
}

TEST(LoggingTest, NonFiniteNumbersBecomeStringsInJson) {
  Captured out(LogFormat::kJson);
  out.logger.Info("numbers", {{"nan", std::numeric_limits<double>::quiet_NaN()},
                              {"inf", std::numeric_limits<double>::infinity()},
                              {"ninf", -std::numeric_limits<float>::infinity()},
                              {"tiny", 5e-324},
                              {"huge", 1e300}});
  const json line = out.Json();
  EXPECT_EQ(line["nan"], "NaN");
  EXPECT_EQ(line["inf"], "+Inf");
  EXPECT_EQ(line["ninf"], "-Inf");
  EXPECT_EQ(line["tiny"].get<double>(), 5e-324);
  EXPECT_EQ(line["huge"].get<double>(), 1e300);
}

TEST(LoggingTest, TextLineReadsWell) {
  Captured out(LogFormat::kText, spdlog::level::info, "cnpgi");
  out.logger.Info("call failed", {{"method", "/cnpgi.wal.v1.WAL/Archive"},
                                  {"code", absl::StatusCode::kNotFound},
                                  {"duration", absl::Microseconds(1200)},
                                  {"message", "segment not found"},
                                  {"attempt", 3},
                                  {"ok", false}});
  const std::string line = out.Line();
  EXPECT_TRUE(IsTimestamp(line.substr(0, 24), 3)) << line;
  EXPECT_THAT(line.substr(24), StartsWith(" INFO  cnpgi  call failed  ")) << line;
  EXPECT_THAT(line, HasSubstr("  call failed  method=/cnpgi.wal.v1.WAL/Archive code=NOT_FOUND "
                              "duration=1.2ms message=\"segment not found\" attempt=3 ok=false"));
}

TEST(LoggingTest, TextLevelsAreAligned) {
  Captured out(LogFormat::kText, spdlog::level::trace, "x");
  out.logger.Trace("m");
  out.logger.Debug("m");
  out.logger.Info("m");
  out.logger.Warn("m");
  out.logger.Error("m");
  const std::vector<std::string> lines = out.Lines();
  ASSERT_EQ(lines.size(), 5u);
  const std::vector<std::string> levels = {"TRACE", "DEBUG", "INFO ", "WARN ", "ERROR"};
  for (std::size_t i = 0; i < lines.size(); ++i) {
    EXPECT_EQ(lines[i].substr(25), levels[i] + " x  m") << lines[i];
  }
}

TEST(LoggingTest, TextQuotesValuesThatNeedIt) {
  Captured out(LogFormat::kText);
  out.logger.Info("m", {{"empty", ""},
                        {"space", "a b"},
                        {"quote", "say \"hi\""},
                        {"equals", "a=b"},
                        {"newline", "a\nb"},
                        {"backslash", "a\\b"},
                        {"bad", "\xff"},
                        {"utf8", "caf\xc3\xa9"},
                        {"path", "/var/lib/postgresql/data/pg_wal/000000010000000000000001"}});
  const std::string line = out.Line();
  EXPECT_THAT(line, HasSubstr(" empty=\"\" "));
  EXPECT_THAT(line, HasSubstr(" space=\"a b\" "));
  EXPECT_THAT(line, HasSubstr(" quote=\"say \\\"hi\\\"\" "));
  EXPECT_THAT(line, HasSubstr(" equals=\"a=b\" "));
  EXPECT_THAT(line, HasSubstr(" newline=\"a\\nb\" "));
  EXPECT_THAT(line, HasSubstr(" backslash=\"a\\\\b\" "));
  EXPECT_THAT(line, HasSubstr(" bad=\"\\xff\" "));
  EXPECT_THAT(line, HasSubstr(" utf8=caf\xc3\xa9 "));
  EXPECT_THAT(line, HasSubstr(" path=/var/lib/postgresql/data/pg_wal/000000010000000000000001"));
}

TEST(LoggingTest, NastyStringsStayOneTextLine) {
  for (const std::string& nasty : NastyStrings()) {
    Captured out(LogFormat::kText);
    out.logger.Error(nasty, {{"value", nasty}, {nasty, 1}});
    const std::string text = out.stream.str();
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
    for (const char c : text.substr(0, text.size() - 1)) {
      EXPECT_FALSE(static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
          << "raw control character " << int{c} << " in " << text;
    }
  }
}

TEST(LoggingTest, LevelFiltering) {
  Captured out(LogFormat::kJson, spdlog::level::warn);
  EXPECT_FALSE(out.logger.ShouldLog(spdlog::level::info));
  EXPECT_TRUE(out.logger.ShouldLog(spdlog::level::warn));
  out.logger.Trace("no");
  out.logger.Debug("no");
  out.logger.Info("no", {{"field", "no"}});
  out.logger.Warn("yes");
  out.logger.Error("yes too");
  const std::vector<std::string> lines = out.Lines();
  ASSERT_EQ(lines.size(), 2u) << out.stream.str();
  EXPECT_EQ(json::parse(lines[0])["msg"], "yes");
  EXPECT_EQ(json::parse(lines[1])["msg"], "yes too");

  // The level can be changed at run time on the underlying logger.
  out.logger.spdlog().set_level(spdlog::level::debug);
  EXPECT_TRUE(out.logger.ShouldLog(spdlog::level::debug));
  out.logger.Debug("now");
  EXPECT_EQ(out.Lines().size(), 3u);
}

TEST(LoggingTest, CallsBelowTheLevelDoNotAllocate) {
  Captured out(LogFormat::kJson, spdlog::level::info);
  const std::string method = "/cnpgi.wal.v1.WAL/Archive";
  // Too big for any inline buffer: encoding it would have to allocate.
  const std::string request(8192, 'r');
  const long before = g_allocations.load();
  for (int i = 0; i < 1000; ++i) {
    out.logger.Debug("call", {{"method", method},
                              {"request", request},
                              {"code", absl::StatusCode::kOk},
                              {"duration", absl::Microseconds(i)},
                              {"attempt", i},
                              {"ok", true}});
  }
  EXPECT_EQ(g_allocations.load() - before, 0);
  EXPECT_TRUE(out.stream.str().empty());
}

TEST(LoggingTest, PlainSpdlogCallsAreFormattedToo) {
  Captured out(LogFormat::kJson, spdlog::level::info, "plain");
  out.logger.spdlog().info("{} segments archived", 3);
  const json line = out.Json();
  EXPECT_EQ(line["msg"], "3 segments archived");
  EXPECT_EQ(line["logger"], "plain");
  EXPECT_EQ(line.size(), 4u);  // level, ts, msg, logger
}

TEST(LoggingTest, ForgedEncodingInAPlainMessageIsShownAsIs) {
  // A plain message that starts like our encoding but does not decode to the
  // last byte is a message, not fields.
  Captured out(LogFormat::kJson);
  constexpr char kForged[] =
      "\xff\x1f"
      "cnpgi\x01\x02\x00\x00\x00hiJUNK";
  const std::string forged(kForged, sizeof(kForged) - 1);
  out.logger.spdlog().info(std::string_view(forged));
  const json line = out.Json();
  ExpectRoundTrip(line["msg"], forged);
  EXPECT_THAT(line["msg"].get<std::string>(), HasSubstr("cnpgi"));
  EXPECT_THAT(line["msg"].get<std::string>(), HasSubstr("hiJUNK"));
}

TEST(LoggingTest, DefaultAndNullLoggersDiscardWithoutCrashing) {
  const Logger silent;
  EXPECT_FALSE(silent.ShouldLog(spdlog::level::critical));
  silent.Error("nobody hears this", {{"k", 1}});
  silent.spdlog().error("nor this");
  const Logger null_logger(nullptr);
  null_logger.Info("nor this");
  EXPECT_FALSE(null_logger.ShouldLog(spdlog::level::err));
}

TEST(LoggingTest, FieldKindsAndValues) {
  const std::string owned = "owned";
  const LogField fields[] = {{"s", owned},
                             {"v", std::string_view("view")},
                             {"c", "literal"},
                             {"n", nullptr},
                             {"i", -5},
                             {"u", 5u},
                             {"d", 2.5},
                             {"b", true},
                             {"t", absl::Seconds(2)},
                             {"code", absl::StatusCode::kAborted}};
  EXPECT_EQ(fields[0].kind(), LogField::Kind::kString);
  EXPECT_EQ(fields[0].string_value(), "owned");
  EXPECT_EQ(fields[2].string_value(), "literal");  // not a bool: const char* has its own overload
  EXPECT_EQ(fields[3].string_value(), "");
  EXPECT_EQ(fields[4].kind(), LogField::Kind::kInt);
  EXPECT_EQ(fields[4].int_value(), -5);
  EXPECT_EQ(fields[5].kind(), LogField::Kind::kUint);
  EXPECT_EQ(fields[6].kind(), LogField::Kind::kDouble);
  EXPECT_EQ(fields[7].kind(), LogField::Kind::kBool);
  EXPECT_EQ(fields[8].kind(), LogField::Kind::kDuration);
  EXPECT_EQ(fields[9].kind(), LogField::Kind::kStatusCode);

  Captured out(LogFormat::kJson);
  out.logger.Log(spdlog::level::info, "dynamic", absl::MakeConstSpan(fields));
  const json line = out.Json();
  EXPECT_EQ(line["s"], "owned");
  EXPECT_EQ(line["c"], "literal");
  EXPECT_EQ(line["n"], "");
  EXPECT_EQ(line["i"], -5);
  EXPECT_EQ(line["u"], 5);
  EXPECT_EQ(line["d"], 2.5);
  EXPECT_EQ(line["b"], true);
  EXPECT_EQ(line["t"], "2s");
  EXPECT_EQ(line["code"], "ABORTED");
}

TEST(LoggingTest, StatusMessagesAreFields) {
  const absl::Status status = absl::NotFoundError("segment \"0001\" is missing");
  Captured out(LogFormat::kJson);
  out.logger.Error("restore failed", {{"code", status.code()}, {"message", status.message()}});
  const json line = out.Json();
  EXPECT_EQ(line["code"], "NOT_FOUND");
  EXPECT_EQ(line["message"], "segment \"0001\" is missing");
}

TEST(LoggingTest, DurationsAndCodesOutsideTheUsualRange) {
  Captured out(LogFormat::kJson);
  out.logger.Info("edge", {{"inf", absl::InfiniteDuration()},
                           {"neg", absl::Milliseconds(-3)},
                           {"odd", static_cast<absl::StatusCode>(99)}});
  const json line = out.Json();
  EXPECT_EQ(line["inf"], "inf");
  EXPECT_EQ(line["neg"], "-3ms");
  EXPECT_EQ(line["odd"], "99");
}

TEST(LoggingTest, ManyThreadsWriteWholeLines) {
  Captured out(LogFormat::kJson);
  constexpr int kThreads = 8;
  constexpr int kLines = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&out, t] {
      const Logger copy = out.logger;  // copies share the sink
      for (int i = 0; i < kLines; ++i) copy.Info("line", {{"thread", t}, {"i", i}});
    });
  }
  for (std::thread& thread : threads) thread.join();
  const std::vector<std::string> lines = out.Lines();
  ASSERT_EQ(lines.size(), static_cast<std::size_t>(kThreads * kLines));
  for (const std::string& line : lines) {
    const json parsed = json::parse(line, nullptr, false);
    ASSERT_FALSE(parsed.is_discarded()) << line;
    EXPECT_EQ(parsed["msg"], "line");
  }
}

TEST(LoggingTest, MakeLogFormatterWorksOnForeignSinks) {
  std::ostringstream stream;
  auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream);
  sink->set_formatter(MakeLogFormatter(LogFormat::kJson));
  const Logger logger(std::make_shared<spdlog::logger>("foreign", sink));
  logger.Info("hello", {{"k", "v"}});
  const json line = json::parse(stream.str());
  EXPECT_EQ(line["logger"], "foreign");
  EXPECT_EQ(line["k"], "v");
}

TEST(LoggingTest, LogFormatNames) {
  EXPECT_EQ(LogFormatName(LogFormat::kText), "text");
  EXPECT_EQ(LogFormatName(LogFormat::kJson), "json");
}

}  // namespace
}  // namespace cnpgi
