#include "cnpgi/server_options.h"

#include <map>
#include <string>
#include <vector>

#include "cnpgi/parameters.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cnpgi {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// Parses `args` with a fake environment, so that the machine's own
// CNPGI_* variables cannot change the outcome.
absl::StatusOr<CommandLine> Parse(std::vector<std::string> args,
                                  std::map<std::string, std::string> environment = {}) {
  std::vector<const char*> argv;
  argv.reserve(args.size());
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  return ParseCommandLine(argv, [environment](std::string_view name) -> std::optional<std::string> {
    const auto it = environment.find(std::string(name));
    if (it == environment.end()) return std::nullopt;
    return it->second;
  });
}

ServerOptions ParseOk(std::vector<std::string> args,
                      std::map<std::string, std::string> environment = {}) {
  absl::StatusOr<CommandLine> parsed = Parse(std::move(args), std::move(environment));
  EXPECT_TRUE(parsed.ok()) << parsed.status();
  if (!parsed.ok()) return {};
  EXPECT_EQ(parsed->action, CommandLine::Action::kServe);
  return parsed->options;
}

// The message of the InvalidArgument error the arguments must produce.
std::string ParseError(std::vector<std::string> args,
                       std::map<std::string, std::string> environment = {}) {
  absl::StatusOr<CommandLine> parsed = Parse(std::move(args), std::move(environment));
  EXPECT_FALSE(parsed.ok());
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << parsed.status();
  return std::string(parsed.status().message());
}

const std::vector<std::string> kTcpArgs = {
    "--server-address=:9090", "--server-cert=/server/tls.crt", "--server-key=/server/tls.key",
    "--client-cert=/client/tls.crt"};

TEST(CommandLineTest, NoArgumentsServeOnTheDefaultUnixSocket) {
  const ServerOptions options = ParseOk({});
  EXPECT_EQ(options.plugin_path, "/plugins");
  EXPECT_FALSE(options.uses_tcp());
  EXPECT_EQ(options.log_level, spdlog::level::info);
  EXPECT_EQ(options.log_format, LogFormat::kText);
  EXPECT_EQ(options.grace_period, absl::Seconds(25));
  EXPECT_EQ(options.tls_reload_interval, absl::Seconds(5));
}

TEST(CommandLineTest, HelloWorldDeploymentArgumentsSelectTcp) {
  const ServerOptions options = ParseOk(kTcpArgs);
  EXPECT_TRUE(options.uses_tcp());
  EXPECT_EQ(options.server_address, ":9090");
  EXPECT_EQ(options.server_cert, "/server/tls.crt");
  EXPECT_EQ(options.server_key, "/server/tls.key");
  EXPECT_EQ(options.client_cert, "/client/tls.crt");
  EXPECT_EQ(options.GrpcListenAddress().value(), "[::]:9090");
}

TEST(CommandLineTest, ValuesMayFollowAsSeparateArguments) {
  const ServerOptions options =
      ParseOk({"--server-address", "127.0.0.1:7000", "--server-cert", "c", "--server-key", "k",
               "--client-cert", "ca", "--log-level", "warn", "--log-format", "json",
               "--grace-period", "1m30s", "--tls-reload-interval", "500ms"});
  EXPECT_EQ(options.server_address, "127.0.0.1:7000");
  EXPECT_EQ(options.server_cert, "c");
  EXPECT_EQ(options.server_key, "k");
  EXPECT_EQ(options.client_cert, "ca");
  EXPECT_EQ(options.log_level, spdlog::level::warn);
  EXPECT_EQ(options.log_format, LogFormat::kJson);
  EXPECT_EQ(options.grace_period, absl::Seconds(90));
  EXPECT_EQ(options.tls_reload_interval, absl::Milliseconds(500));
}

TEST(CommandLineTest, PluginPathIsTaken) {
  EXPECT_EQ(ParseOk({"--plugin-path=/var/run/plugins"}).plugin_path, "/var/run/plugins");
  EXPECT_EQ(ParseOk({"--plugin-path", "relative/dir"}).plugin_path, "relative/dir");
}

TEST(CommandLineTest, DebugMeansDebugLevel) {
  EXPECT_EQ(ParseOk({"--debug"}).log_level, spdlog::level::debug);
  EXPECT_EQ(ParseOk({"--debug=true"}).log_level, spdlog::level::debug);
  EXPECT_EQ(ParseOk({"--debug=1"}).log_level, spdlog::level::debug);
  EXPECT_EQ(ParseOk({"--debug=false"}).log_level, spdlog::level::info);
  EXPECT_EQ(ParseOk({"--debug=F"}).log_level, spdlog::level::info);
  EXPECT_EQ(ParseOk({"--debug", "--log-level=debug"}).log_level, spdlog::level::debug);
  EXPECT_EQ(ParseOk({"--debug=false", "--log-level=error"}).log_level, spdlog::level::err);
  // A flag beats the environment, --debug included.
  EXPECT_EQ(ParseOk({"--debug"}, {{"CNPGI_LOG_LEVEL", "error"}}).log_level, spdlog::level::debug);
}

TEST(CommandLineTest, DebugContradictingLogLevelIsAnError) {
  EXPECT_THAT(ParseError({"--debug", "--log-level=warn"}),
              AllOf(HasSubstr("--debug"), HasSubstr("--log-level=warn")));
}

TEST(CommandLineTest, DebugTakesOnlyBooleans) {
  EXPECT_THAT(ParseError({"--debug=yes"}),
              AllOf(HasSubstr("--debug"), HasSubstr("\"yes\""), HasSubstr("true or false")));
  EXPECT_THAT(ParseError({"--debug="}), HasSubstr("--debug"));
  // A boolean never swallows the next argument: pflag's rule.
  EXPECT_THAT(ParseError({"--debug", "false"}), HasSubstr("unexpected argument \"false\""));
}

TEST(CommandLineTest, LogLevelsAndFormatsAreRecognised) {
  EXPECT_EQ(ParseOk({"--log-level=trace"}).log_level, spdlog::level::trace);
  EXPECT_EQ(ParseOk({"--log-level=debug"}).log_level, spdlog::level::debug);
  EXPECT_EQ(ParseOk({"--log-level=info"}).log_level, spdlog::level::info);
  EXPECT_EQ(ParseOk({"--log-level=warn"}).log_level, spdlog::level::warn);
  EXPECT_EQ(ParseOk({"--log-level=warning"}).log_level, spdlog::level::warn);
  EXPECT_EQ(ParseOk({"--log-level=ERROR"}).log_level, spdlog::level::err);
  EXPECT_EQ(ParseOk({"--log-format=json"}).log_format, LogFormat::kJson);
  EXPECT_EQ(ParseOk({"--log-format=Text"}).log_format, LogFormat::kText);
}

TEST(CommandLineTest, BadLogLevelOrFormatIsNamed) {
  EXPECT_THAT(ParseError({"--log-level=verbose"}),
              AllOf(HasSubstr("--log-level"), HasSubstr("\"verbose\""), HasSubstr("trace")));
  EXPECT_THAT(ParseError({"--log-level=infoo"}), HasSubstr("\"infoo\""));
  EXPECT_THAT(ParseError({"--log-format=xml"}),
              AllOf(HasSubstr("--log-format"), HasSubstr("\"xml\""), HasSubstr("json")));
}

TEST(CommandLineTest, EnvironmentSetsLogLevelAndFormat) {
  const ServerOptions options =
      ParseOk({}, {{"CNPGI_LOG_LEVEL", "debug"}, {"CNPGI_LOG_FORMAT", "json"}});
  EXPECT_EQ(options.log_level, spdlog::level::debug);
  EXPECT_EQ(options.log_format, LogFormat::kJson);
}

TEST(CommandLineTest, FlagsBeatTheEnvironment) {
  const ServerOptions options =
      ParseOk({"--log-level=error", "--log-format=text"},
              {{"CNPGI_LOG_LEVEL", "debug"}, {"CNPGI_LOG_FORMAT", "json"}});
  EXPECT_EQ(options.log_level, spdlog::level::err);
  EXPECT_EQ(options.log_format, LogFormat::kText);
  // A flag wins even over a broken variable, which is then never read.
  EXPECT_EQ(ParseOk({"--log-level=warn"}, {{"CNPGI_LOG_LEVEL", "nonsense"}}).log_level,
            spdlog::level::warn);
}

TEST(CommandLineTest, EmptyEnvironmentVariablesCountAsUnset) {
  const ServerOptions options = ParseOk({}, {{"CNPGI_LOG_LEVEL", ""}, {"CNPGI_LOG_FORMAT", ""}});
  EXPECT_EQ(options.log_level, spdlog::level::info);
  EXPECT_EQ(options.log_format, LogFormat::kText);
}

TEST(CommandLineTest, BadEnvironmentValuesNameTheVariable) {
  EXPECT_THAT(ParseError({}, {{"CNPGI_LOG_LEVEL", "loud"}}),
              AllOf(HasSubstr("CNPGI_LOG_LEVEL"), HasSubstr("\"loud\"")));
  EXPECT_THAT(ParseError({}, {{"CNPGI_LOG_FORMAT", "yaml"}}),
              AllOf(HasSubstr("CNPGI_LOG_FORMAT"), HasSubstr("\"yaml\"")));
}

TEST(CommandLineTest, ProcessEnvironmentIsTheDefault) {
  ASSERT_EQ(setenv("CNPGI_LOG_FORMAT", "json", 1), 0);
  const char* const none[] = {"--log-level=info"};
  absl::StatusOr<CommandLine> parsed = ParseCommandLine(none);
  unsetenv("CNPGI_LOG_FORMAT");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->options.log_format, LogFormat::kJson);
  EXPECT_EQ(ProcessEnvironment("CNPGI_LOG_FORMAT"), std::nullopt);
}

TEST(CommandLineTest, NullEnvironmentLookupMeansNoEnvironment) {
  const char* const args[] = {"--debug"};
  absl::StatusOr<CommandLine> parsed = ParseCommandLine(args, EnvironmentLookup());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->options.log_level, spdlog::level::debug);
}

TEST(CommandLineTest, HelpAndVersionWin) {
  EXPECT_EQ(Parse({"--help"})->action, CommandLine::Action::kHelp);
  EXPECT_EQ(Parse({"-h"})->action, CommandLine::Action::kHelp);
  EXPECT_EQ(Parse({"--help=true"})->action, CommandLine::Action::kHelp);
  EXPECT_EQ(Parse({"--version"})->action, CommandLine::Action::kVersion);
  EXPECT_EQ(Parse({"--version", "--help"})->action, CommandLine::Action::kHelp);
  // Even a broken line gets its help.
  EXPECT_EQ(Parse({"--bogus", "--help"})->action, CommandLine::Action::kHelp);
  EXPECT_EQ(Parse({"--server-address=:9090", "--version"})->action, CommandLine::Action::kVersion);
  // Explicitly false, they mean nothing.
  EXPECT_EQ(Parse({"--help=false"})->action, CommandLine::Action::kServe);
  EXPECT_EQ(Parse({"--version=false"})->action, CommandLine::Action::kServe);
  // After "--" they are arguments, and arguments are refused.
  EXPECT_THAT(ParseError({"--", "--help"}), HasSubstr("unexpected argument \"--help\""));
}

TEST(CommandLineTest, UnknownFlagsAreNamedWithASuggestion) {
  EXPECT_THAT(ParseError({"--plugin-paht=/x"}),
              AllOf(HasSubstr("unknown flag \"--plugin-paht\""), HasSubstr("--plugin-path?")));
  EXPECT_THAT(ParseError({"--server_address=:9090"}), HasSubstr("did you mean --server-address?"));
  EXPECT_THAT(ParseError({"--leader-elect"}),
              AllOf(HasSubstr("unknown flag \"--leader-elect\""), Not(HasSubstr("did you mean"))));
  EXPECT_THAT(ParseError({"--=x"}), HasSubstr("unknown flag"));
}

TEST(CommandLineTest, SingleDashLongFlagsAreExplained) {
  EXPECT_THAT(ParseError({"-plugin-path=/x"}),
              AllOf(HasSubstr("\"-plugin-path=/x\""), HasSubstr("two dashes, --plugin-path")));
  EXPECT_THAT(ParseError({"-x"}), HasSubstr("unknown shorthand flag \"-x\""));
  EXPECT_THAT(ParseError({"-="}), HasSubstr("unknown shorthand flag"));
}

TEST(CommandLineTest, MissingValuesAreNamed) {
  EXPECT_THAT(ParseError({"--plugin-path"}),
              AllOf(HasSubstr("--plugin-path needs a value"), HasSubstr("--plugin-path=DIR")));
  EXPECT_THAT(ParseError({"--server-address", "--server-cert=c"}),
              AllOf(HasSubstr("--server-address needs a value"), HasSubstr("\"--server-cert=c\"")));
  EXPECT_THAT(ParseError({"--grace-period"}), HasSubstr("--grace-period needs a value"));
}

TEST(CommandLineTest, ValuesStartingWithADashNeedTheEqualsForm) {
  EXPECT_THAT(ParseError({"--grace-period", "-5s"}), HasSubstr("--grace-period=VALUE"));
  EXPECT_THAT(ParseError({"--grace-period=-5s"}), HasSubstr("negative"));
  // A lone dash is a value like any other.
  EXPECT_EQ(ParseOk({"--plugin-path", "-"}).plugin_path, "-");
}

TEST(CommandLineTest, EmptyValuesAreRefused) {
  for (const char* flag :
       {"--plugin-path", "--server-address", "--server-cert", "--server-key", "--client-cert",
        "--log-level", "--log-format", "--grace-period", "--tls-reload-interval"}) {
    EXPECT_THAT(ParseError({std::string(flag) + "="}),
                AllOf(HasSubstr(flag), HasSubstr("must not be empty")))
        << flag;
    EXPECT_THAT(ParseError({flag, ""}), AllOf(HasSubstr(flag), HasSubstr("must not be empty")))
        << flag;
  }
}

TEST(CommandLineTest, PositionalArgumentsAreRefused) {
  EXPECT_THAT(ParseError({"plugin", "--server-address=:9090"}),
              AllOf(HasSubstr("unexpected argument \"plugin\""), HasSubstr("subcommand")));
  EXPECT_THAT(ParseError({"--debug", "plugin"}), HasSubstr("unexpected argument \"plugin\""));
  EXPECT_THAT(ParseError({"-"}), HasSubstr("unexpected argument \"-\""));
  EXPECT_THAT(ParseError({"--", "x"}), HasSubstr("unexpected argument \"x\""));
  // "--" alone just ends the flags.
  EXPECT_EQ(ParseOk({"--debug", "--"}).log_level, spdlog::level::debug);
}

TEST(CommandLineTest, FlagsGivenTwiceAreRefused) {
  EXPECT_THAT(
      ParseError({"--plugin-path=/a", "--plugin-path", "/b"}),
      AllOf(HasSubstr("--plugin-path is given twice"), HasSubstr("\"/a\""), HasSubstr("\"/b\"")));
  EXPECT_THAT(ParseError({"--debug", "--debug=false"}), HasSubstr("--debug is given twice"));
}

TEST(CommandLineTest, TcpFlagsGoTogether) {
  for (std::size_t left_out = 0; left_out < kTcpArgs.size(); ++left_out) {
    std::vector<std::string> args;
    for (std::size_t i = 0; i < kTcpArgs.size(); ++i) {
      if (i != left_out) args.push_back(kTcpArgs[i]);
    }
    const std::string missing = kTcpArgs[left_out].substr(0, kTcpArgs[left_out].find('='));
    EXPECT_THAT(ParseError(args), AllOf(HasSubstr("go together"), HasSubstr("missing " + missing)))
        << missing;
  }
  EXPECT_THAT(ParseError({"--server-cert=c"}),
              HasSubstr("missing --server-address, --server-key, --client-cert"));
}

TEST(CommandLineTest, ThereIsNoPlaintextTcp) {
  EXPECT_THAT(ParseError({"--server-address=:9090"}),
              AllOf(HasSubstr("no plaintext TCP"),
                    HasSubstr("missing --server-cert, --server-key, --client-cert")));
}

TEST(CommandLineTest, PluginPathExcludesTcp) {
  std::vector<std::string> args = kTcpArgs;
  args.push_back("--plugin-path=/plugins");
  EXPECT_THAT(ParseError(args), AllOf(HasSubstr("--plugin-path"), HasSubstr("--server-cert"),
                                      HasSubstr("exclude each other")));
  EXPECT_THAT(ParseError({"--plugin-path=/plugins", "--server-cert=c"}),
              AllOf(HasSubstr("--plugin-path (Unix socket) and --server-cert"),
                    HasSubstr("exclude each other")));
  EXPECT_THAT(ParseError({"--server-address=:1", "--plugin-path=/p"}),
              AllOf(HasSubstr("--server-address"), HasSubstr("exclude each other")));
}

TEST(CommandLineTest, ListenAddressConversion) {
  EXPECT_EQ(ToGrpcListenAddress(":9090").value(), "[::]:9090");
  EXPECT_EQ(ToGrpcListenAddress("0.0.0.0:9090").value(), "0.0.0.0:9090");
  EXPECT_EQ(ToGrpcListenAddress("localhost:1").value(), "localhost:1");
  EXPECT_EQ(ToGrpcListenAddress("hello-world.cnpg-system.svc:9090").value(),
            "hello-world.cnpg-system.svc:9090");
  EXPECT_EQ(ToGrpcListenAddress("[::1]:65535").value(), "[::1]:65535");
  EXPECT_EQ(ToGrpcListenAddress("[fe80::1%eth0]:9090").value(), "[fe80::1%eth0]:9090");
  // Port 0 lets the system pick one, which tests rely on.
  EXPECT_EQ(ToGrpcListenAddress("127.0.0.1:0").value(), "127.0.0.1:0");
}

TEST(CommandLineTest, BadAddressesAreNamed) {
  struct Case {
    const char* address;
    const char* why;
  };
  for (const Case& c :
       {Case{"9090", "missing port"}, Case{"localhost", "missing port"},
        Case{":", "missing port number"}, Case{"host:", "missing port number"},
        Case{":65536", "out of range"}, Case{":99999", "out of range"},
        Case{":123456", "from 0 to 65535"}, Case{":-1", "from 0 to 65535"},
        Case{":http", "from 0 to 65535"}, Case{":90 90", "from 0 to 65535"},
        Case{"::1:9090", "needs brackets"}, Case{"[::1]9090", "missing port"},
        Case{"[::1:9090", "missing ']'"}, Case{"[]:9090", "IPv6"}, Case{"[1.2.3.4]:9090", "IPv6"},
        Case{"[::1 ]:1", "IPv6"}, Case{"unix:///tmp/sock", "--plugin-path"},
        Case{"my host:9090", "host:port"}}) {
    std::vector<std::string> args = kTcpArgs;
    args[0] = std::string("--server-address=") + c.address;
    EXPECT_THAT(ParseError(args),
                AllOf(HasSubstr("--server-address"),
                      HasSubstr(std::string("\"") + c.address + "\""), HasSubstr(c.why)))
        << c.address;
  }
}

TEST(CommandLineTest, DurationsUseGoSyntax) {
  EXPECT_EQ(ParseOk({"--grace-period=30s"}).grace_period, absl::Seconds(30));
  EXPECT_EQ(ParseOk({"--grace-period=1m30s"}).grace_period, absl::Seconds(90));
  EXPECT_EQ(ParseOk({"--grace-period=1h"}).grace_period, absl::Hours(1));
  EXPECT_EQ(ParseOk({"--grace-period=1.5s"}).grace_period, absl::Milliseconds(1500));
  EXPECT_EQ(ParseOk({"--grace-period=0"}).grace_period, absl::ZeroDuration());
  EXPECT_EQ(ParseOk({"--grace-period=0s"}).grace_period, absl::ZeroDuration());
  EXPECT_EQ(ParseOk({"--tls-reload-interval=250us"}).tls_reload_interval, absl::Microseconds(250));
  EXPECT_EQ(ParseOk({"--tls-reload-interval=250\xc2\xb5s"}).tls_reload_interval,
            absl::Microseconds(250));
}

// Flags and plugin parameters read durations alike (cnpgi::ParseDuration):
// Go's syntax plus "min" and "d", so a value valid in one place is valid in
// the other.
TEST(CommandLineTest, DurationsReadAsPluginParameters) {
  EXPECT_EQ(ParseOk({"--grace-period=5min"}).grace_period, absl::Minutes(5));
  EXPECT_EQ(ParseOk({"--tls-reload-interval=1d"}).tls_reload_interval, absl::Hours(24));
  EXPECT_EQ(ParseOk({"--grace-period=1h30m"}).grace_period, cnpgi::ParseDuration("1h30m").value());
  EXPECT_EQ(ParseOk({"--grace-period=1.5s"}).grace_period, absl::Milliseconds(1500));
}

TEST(CommandLineTest, BadDurationsAreNamed) {
  EXPECT_THAT(ParseError({"--grace-period=soon"}),
              AllOf(HasSubstr("--grace-period"), HasSubstr("\"soon\""), HasSubstr("30s")));
  EXPECT_THAT(ParseError({"--grace-period=30"}),
              AllOf(HasSubstr("\"30\""), HasSubstr("unit is required")));
  EXPECT_THAT(ParseError({"--grace-period=-1s"}),
              AllOf(HasSubstr("\"-1s\""), HasSubstr("must not be negative")));
  EXPECT_THAT(ParseError({"--grace-period=inf"}), HasSubstr("\"inf\""));
  EXPECT_THAT(ParseError({"--grace-period=30 s"}), HasSubstr("\"30 s\""));
  EXPECT_THAT(ParseError({"--tls-reload-interval=1x"}),
              AllOf(HasSubstr("--tls-reload-interval"), HasSubstr("\"1x\"")));
  EXPECT_THAT(ParseError({"--tls-reload-interval=0s"}),
              AllOf(HasSubstr("--tls-reload-interval"), HasSubstr("greater than zero")));
  EXPECT_THAT(ParseError({"--tls-reload-interval=-5m"}), HasSubstr("must not be negative"));
}

TEST(CommandLineTest, HostileArgumentsGiveErrorsNotCrashes) {
  // Control characters are shown escaped, huge values are cut.
  const std::string huge(100000, 'x');
  EXPECT_THAT(ParseError({"--log-level=" + huge}),
              AllOf(HasSubstr("100000 bytes"), HasSubstr("--log-level")));
  EXPECT_LT(ParseError({"--log-level=" + huge}).size(), 400u);
  EXPECT_THAT(ParseError({std::string("--log-level=a\nb\x1b")}), HasSubstr("\"a\\x0ab\\x1b\""));
  EXPECT_THAT(ParseError({"--\xff\xfe"}), HasSubstr("unknown flag"));
  EXPECT_THAT(ParseError({"--server-address=\xff:1", "--server-cert=c", "--server-key=k",
                          "--client-cert=a"}),
              HasSubstr("--server-address"));
  // A null pointer in the argument array is a caller bug; still no crash.
  const char* const with_null[] = {"--debug", nullptr};
  absl::StatusOr<CommandLine> parsed = ParseCommandLine(with_null, EnvironmentLookup());
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(std::string(parsed.status().message()), HasSubstr("argument 2"));
}

TEST(CommandLineTest, EveryPrefixOfAValidLineParsesOrFailsCleanly) {
  // Cutting a valid command line anywhere must never crash or throw.
  const std::string line =
      "--server-address=[::1]:9090 --server-cert=/s/tls.crt --server-key=/s/tls.key "
      "--client-cert=/c/tls.crt --log-level=debug --log-format=json --grace-period=1m "
      "--tls-reload-interval=10s";
  for (std::size_t cut = 0; cut <= line.size(); ++cut) {
    std::vector<std::string> args;
    std::string word;
    for (char c : line.substr(0, cut)) {
      if (c == ' ') {
        args.push_back(word);
        word.clear();
      } else {
        word += c;
      }
    }
    args.push_back(word);
    absl::StatusOr<CommandLine> parsed = Parse(args);
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument) << parsed.status();
    }
  }
}

TEST(ServerOptionsTest, ValidateChecksHandBuiltOptions) {
  ServerOptions options;
  EXPECT_TRUE(options.Validate().ok());

  options.server_address = ":9090";
  EXPECT_THAT(std::string(options.Validate().message()), HasSubstr("missing --server-cert"));
  options.server_cert = "c";
  options.server_key = "k";
  options.client_cert = "ca";
  EXPECT_TRUE(options.Validate().ok()) << options.Validate();
  options.server_address = "nonsense";
  EXPECT_THAT(std::string(options.Validate().message()), HasSubstr("\"nonsense\""));

  ServerOptions unix_socket;
  unix_socket.plugin_path.clear();
  EXPECT_THAT(std::string(unix_socket.Validate().message()), HasSubstr("--plugin-path"));

  ServerOptions negative;
  negative.grace_period = absl::Seconds(-1);
  EXPECT_THAT(std::string(negative.Validate().message()), HasSubstr("--grace-period"));
  ServerOptions zero;
  zero.tls_reload_interval = absl::ZeroDuration();
  EXPECT_THAT(std::string(zero.Validate().message()), HasSubstr("--tls-reload-interval"));
}

TEST(ServerOptionsTest, EveryParsedLineValidates) {
  std::vector<std::string> args = kTcpArgs;
  args.push_back("--grace-period=0s");
  EXPECT_TRUE(ParseOk(args).Validate().ok());
  EXPECT_TRUE(ParseOk({"--plugin-path=/p", "--debug"}).Validate().ok());
}

TEST(CommandLineHelpTest, MentionsEveryFlagTheRulesAndBothTransports) {
  const std::string help = CommandLineHelp("my-plugin", "hello.example.com");
  for (const char* flag : {"--plugin-path", "--server-address", "--server-cert", "--server-key",
                           "--client-cert", "--log-level", "--log-format", "--debug",
                           "--grace-period", "--tls-reload-interval", "-h, --help", "--version"}) {
    EXPECT_THAT(help, HasSubstr(flag)) << flag;
  }
  EXPECT_THAT(help, HasSubstr("Usage: my-plugin [flags]"));
  EXPECT_THAT(help, HasSubstr("hello.example.com"));
  EXPECT_THAT(help, HasSubstr("CNPGI_LOG_LEVEL"));
  EXPECT_THAT(help, HasSubstr("CNPGI_LOG_FORMAT"));
  EXPECT_THAT(help, HasSubstr("(default \"/plugins\")"));
  EXPECT_THAT(help, HasSubstr("(default 25s)"));
  EXPECT_THAT(help, HasSubstr("(default 5s)"));
  EXPECT_THAT(help, HasSubstr("no plaintext TCP"));
  EXPECT_THAT(help, HasSubstr("exclude each other"));
  EXPECT_THAT(help, HasSubstr("my-plugin --plugin-path=/plugins"));
  EXPECT_THAT(help, HasSubstr("my-plugin --server-address=:9090 --server-cert="));
}

TEST(CommandLineHelpTest, OneLinePerFlagAlignedAndReadable) {
  // The longest plugin name the operator accepts (63 characters).
  const std::string help =
      CommandLineHelp("plugin", "a-rather-long-plugin-name-that-uses-all-63-characters.example.i");
  std::vector<std::string> flag_lines;
  std::size_t start = 0;
  while (start < help.size()) {
    const std::size_t end = help.find('\n', start);
    const std::string line = help.substr(start, end - start);
    EXPECT_LE(line.size(), 100u) << line;
    if (line.rfind("  -h", 0) == 0 || line.rfind("      --", 0) == 0) flag_lines.push_back(line);
    start = end == std::string::npos ? help.size() : end + 1;
  }
  ASSERT_EQ(flag_lines.size(), 12u);
  // Descriptions start in one column.
  const auto description_column = [](const std::string& line) {
    const std::size_t gap = line.find("  ", line.find("-"));
    return line.find_first_not_of(' ', gap);
  };
  for (const std::string& line : flag_lines) {
    EXPECT_EQ(description_column(line), description_column(flag_lines.front())) << line;
  }
}

}  // namespace
}  // namespace cnpgi
