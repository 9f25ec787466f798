// --record-* and --metrics-address: flags, environment variables, and the
// errors that name them.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "cnpgi/server_options.h"

namespace cnpgi {
namespace {

using ::testing::HasSubstr;

absl::StatusOr<CommandLine> Parse(std::vector<const char*> args,
                                  std::map<std::string, std::string> env = {}) {
  return ParseCommandLine(args, [env](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(std::string(name));
    if (it == env.end()) return std::nullopt;
    return it->second;
  });
}

TEST(ObserveFlags, Defaults) {
  auto cl = Parse({});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->options.record_dir, "");
  EXPECT_TRUE(cl->options.record_redact);
  EXPECT_EQ(cl->options.metrics_address, "");
}

TEST(ObserveFlags, FlagsAndEnvironment) {
  auto cl = Parse({"--record-dir=/rec", "--record-max-files", "20", "--record-max-bytes=5Mi",
                   "--record-redact=false", "--metrics-address=:9187"});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->options.record_dir, "/rec");
  EXPECT_EQ(cl->options.record_max_files, 20u);
  EXPECT_EQ(cl->options.record_max_bytes, 5u << 20);
  EXPECT_FALSE(cl->options.record_redact);
  EXPECT_EQ(cl->options.metrics_address, ":9187");

  cl = Parse({}, {{"CNPGI_RECORD_DIR", "/env"},
                  {"CNPGI_RECORD_MAX_BYTES", "1024"},
                  {"CNPGI_METRICS_ADDRESS", "127.0.0.1:9000"}});
  ASSERT_TRUE(cl.ok()) << cl.status();
  EXPECT_EQ(cl->options.record_dir, "/env");
  EXPECT_EQ(cl->options.record_max_bytes, 1024u);
  EXPECT_EQ(cl->options.metrics_address, "127.0.0.1:9000");

  // The flag wins.
  cl = Parse({"--record-dir=/flag"}, {{"CNPGI_RECORD_DIR", "/env"}});
  ASSERT_TRUE(cl.ok());
  EXPECT_EQ(cl->options.record_dir, "/flag");
}

TEST(ObserveFlags, ErrorsNameTheFlagOrVariable) {
  auto cl = Parse({"--metrics-address=9187"});
  ASSERT_FALSE(cl.ok());
  EXPECT_THAT(std::string(cl.status().message()), HasSubstr("--metrics-address"));
  cl = Parse({"--metrics-address=:99999"});
  ASSERT_FALSE(cl.ok());
  EXPECT_THAT(std::string(cl.status().message()), HasSubstr("--metrics-address"));
  cl = Parse({}, {{"CNPGI_METRICS_ADDRESS", "host"}});
  ASSERT_FALSE(cl.ok());
  EXPECT_THAT(std::string(cl.status().message()), HasSubstr("CNPGI_METRICS_ADDRESS"));
  cl = Parse({"--record-max-files=lots"});
  ASSERT_FALSE(cl.ok());
  EXPECT_THAT(std::string(cl.status().message()), HasSubstr("--record-max-files"));
  cl = Parse({"--record-max-bytes=0"});
  ASSERT_FALSE(cl.ok());
  EXPECT_THAT(std::string(cl.status().message()), HasSubstr("--record-max-bytes"));
  cl = Parse({}, {{"CNPGI_RECORD_REDACT", "maybe"}});
  ASSERT_FALSE(cl.ok());
  EXPECT_THAT(std::string(cl.status().message()), HasSubstr("CNPGI_RECORD_REDACT"));
}

TEST(ObserveFlags, HelpListsThem) {
  const std::string help = CommandLineHelp("plugin", "p");
  for (const char* flag : {"--record-dir", "--record-max-files", "--record-max-bytes",
                           "--record-redact", "--metrics-address", "CNPGI_RECORD_DIR"}) {
    EXPECT_THAT(help, HasSubstr(flag));
  }
}

}  // namespace
}  // namespace cnpgi
