// The command line of cnpgi-conformance.
#ifndef CNPGI_TOOLS_CONFORMANCE_COMMAND_LINE_H_
#define CNPGI_TOOLS_CONFORMANCE_COMMAND_LINE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cnpgi/testing/conformance.h"

namespace cnpgi::conformance_tool {

struct CommandLine {
  enum class Action { kRun, kHelp, kVersion, kList };
  Action action = Action::kRun;
  test::ConformanceOptions options;
  std::string junit_file;  // --junit
  std::string replay_dir;  // --replay: replay recorded calls instead of checking
};

// Parses the arguments after the program name. InvalidArgument naming the
// flag for every mistake (unknown flag, missing value, bad duration, a
// transport given twice or not at all, an unreadable config or certificate).
absl::StatusOr<CommandLine> ParseCommandLine(const std::vector<std::string>& args);

// The --help text (from the same table as the parser).
std::string Usage();

}  // namespace cnpgi::conformance_tool

#endif  // CNPGI_TOOLS_CONFORMANCE_COMMAND_LINE_H_
