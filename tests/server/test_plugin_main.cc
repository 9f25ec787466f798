// A plugin process for the tests that need a real process: signals, exit
// codes, command-line errors. Backup sleeps for parameters["sleep_ms"] and
// creates parameters["started_file"] when it begins.
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <fstream>
#include <string>
#include <string_view>
#include <thread>

#include "cnpgi/backup_service.h"
#include "cnpgi/plugin_server.h"
#include "cnpgi/server_options.h"
#include "test_plugins.h"

namespace {

class SleepyBackup final : public cnpgi::BackupService {
  absl::Status Backup(cnpgi::CallContext& ctx, const Request& request, Result& result) override {
    const auto& params = request.parameters();
    if (auto it = params.find("started_file"); it != params.end()) {
      std::ofstream(it->second) << "started\n";
    }
    int sleep_ms = 0;
    if (auto it = params.find("sleep_ms"); it != params.end()) sleep_ms = std::stoi(it->second);
    const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(sleep_ms);
    while (std::chrono::steady_clock::now() < end) {
      if (ctx.IsCancelled()) return absl::CancelledError("backup cancelled");
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    result.set_backup_id("slept");
    return absl::OkStatus();
  }
};

}  // namespace

int main(int argc, char** argv) {
  cnpgi::PluginServer server(cnpgi::testing_plugins::TestMetadata());
  server.Add(std::make_shared<SleepyBackup>())
      .Add(std::make_shared<cnpgi::testing_plugins::StatusOnlyOperator>());
  // "--own-flags" first: the program parses the command line itself, takes
  // its own flag off the front and hands the options to Run(options).
  if (argc > 1 && std::string_view(argv[1]) == "--own-flags") {
    auto command = cnpgi::ParseCommandLine({argv + 2, static_cast<std::size_t>(argc - 2)});
    if (!command.ok()) {
      std::fprintf(stderr, "%s\n", std::string(command.status().message()).c_str());
      return 2;
    }
    return server.Run(command->options, argv[0]);
  }
  return server.Run(argc, argv);
}
