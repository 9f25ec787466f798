// A plugin process for the tests that need a real process: signals, exit
// codes, command-line errors. Backup sleeps for parameters["sleep_ms"] and
// creates parameters["started_file"] when it begins.
#include <chrono>
#include <fstream>
#include <thread>

#include "cnpgi/backup_service.h"
#include "cnpgi/plugin_server.h"
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
  return cnpgi::PluginServer(cnpgi::testing_plugins::TestMetadata())
      .Add(std::make_shared<SleepyBackup>())
      .Add(std::make_shared<cnpgi::testing_plugins::StatusOnlyOperator>())
      .Run(argc, argv);
}
