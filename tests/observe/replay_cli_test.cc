// The round trip with the real binaries: a plugin process started with
// --record-dir, cnpgi-conformance against it, then
// `cnpgi-conformance --replay DIR` against a new process of the plugin.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "support/child_process.h"
#include "support/temp_dir.h"

namespace cnpgi {
namespace {

using ::testing::HasSubstr;
using testing_support::Process;
using testing_support::TempDir;

constexpr char kSocketName[] = "good.conformance.cnpgi.example";

TEST(ReplayCli, RecordedConformanceRunReplaysGreen) {
  TempDir dir;
  const auto sockets = dir.path() / "sockets";
  const auto records = dir.path() / "records";
  std::filesystem::create_directories(sockets);
  std::filesystem::create_directories(records);
  const std::string socket = (sockets / kSocketName).string();
  {
    Process plugin(CNPGI_GOOD_PLUGIN,
                   {"--plugin-path=" + sockets.string(), "--record-dir=" + records.string()},
                   dir.path(), "recorded");
    ASSERT_TRUE(testing_support::WaitForListening(socket));
    Process check(CNPGI_CONFORMANCE_BIN, {"--socket", socket}, dir.path(), "check");
    ASSERT_EQ(check.Wait(), 0) << check.Stdout() << check.Stderr();
    plugin.Signal(SIGTERM);
    ASSERT_EQ(plugin.Wait(), 0) << plugin.Stderr();
  }
  ASSERT_FALSE(std::filesystem::is_empty(records));

  Process plugin(CNPGI_GOOD_PLUGIN, {"--plugin-path=" + sockets.string()}, dir.path(), "fresh");
  ASSERT_TRUE(testing_support::WaitForListening(socket));
  Process replay(CNPGI_CONFORMANCE_BIN, {"--socket", socket, "--replay", records.string()},
                 dir.path(), "replay");
  EXPECT_EQ(replay.Wait(), 0) << replay.Stdout() << replay.Stderr();
  EXPECT_THAT(replay.Stdout(), HasSubstr(" 0 different"));

  // A damaged file: exit 2, the file named, nothing sent.
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(records)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  std::ofstream(files[files.size() / 2]) << "not json";
  Process damaged(CNPGI_CONFORMANCE_BIN, {"--socket", socket, "--replay", records.string()},
                  dir.path(), "damaged");
  EXPECT_EQ(damaged.Wait(), 2);
  EXPECT_THAT(damaged.Stderr(), HasSubstr(files[files.size() / 2].filename().string()));
  plugin.Signal(SIGTERM);
  EXPECT_EQ(plugin.Wait(), 0);
  std::filesystem::remove(files[files.size() / 2]);

  // No plugin any more: exit 2 with the reason, not "every answer differs".
  Process gone(CNPGI_CONFORMANCE_BIN, {"--socket", socket, "--replay", records.string()},
               dir.path(), "gone");
  EXPECT_EQ(gone.Wait(), 2) << gone.Stdout() << gone.Stderr();
  EXPECT_THAT(gone.Stderr(), HasSubstr("cannot reach the plugin at unix:" + socket));
  EXPECT_THAT(gone.Stderr(), HasSubstr("there is no socket at " + socket));
}

}  // namespace
}  // namespace cnpgi
