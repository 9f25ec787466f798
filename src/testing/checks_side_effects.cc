// The opt-in checks with side effects on the plugin's storage: WAL archive
// and restore, backup, restore job (SEMANTICS.md section 3).
#include "testing/checks.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <latch>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/strings/str_join.h"
#include "cnpgi/json.h"
#include "testing/internal.h"

namespace cnpgi::testing::internal {
namespace {

using Json = nlohmann::json;

// Opt-in checks with side effects ----------------------------------------------------

// A segment name no real cluster reaches soon (timeline 0xFD), so that the
// test segment is recognisable in an archive.
constexpr char kTestSegment[] = "000000FD0000000000000001";
constexpr char kMissingSegment[] = "000000FD00000000000000FF";

Verdict WalArchiveRestore(CheckEnv& env) {
  const HandshakeResult& h = env.handshake();
  const bool archive = h.Advertises(Rpc::kArchiveWal);
  const bool restore = h.Advertises(Rpc::kRestoreWal);
  if (!archive && !restore) return Skip("neither WAL Archive nor Restore is advertised");
  if (env.options().wal_dir.empty()) {
    return Skip(
        "changes the plugin's WAL archive: pass --wal-dir DIR (a scratch directory the "
        "plugin can read and write) to run it");
  }
  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::absolute(env.options().wal_dir, ec);
  std::filesystem::create_directories(dir, ec);
  if (ec) return Fail(Cat("cannot create --wal-dir ", dir.string(), ": ", ec.message()));
  const std::filesystem::path segment = dir / kTestSegment;
  // A 16 MiB segment with recognisable content.
  std::string content(16u << 20, '\0');
  for (std::size_t i = 0; i < content.size(); i += 4096) {
    const std::string mark = Cat("cnpgi-conformance test segment, block ", i / 4096, "\n");
    content.replace(i, std::min(mark.size(), content.size() - i), mark);
  }
  {
    std::ofstream out(segment, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) return Fail(Cat("cannot write the test segment ", segment.string()));
  }
  const PluginClient client = env.client().WithTimeout(env.options().long_call_timeout);
  const Json cluster = env.cluster();
  std::vector<std::string> done;
  std::vector<std::string> warnings;
  if (archive) {
    absl::Status s = client.ArchiveWal(cluster, segment.string(), false);
    if (!s.ok()) {
      return Fail(Cat("Archive of ", segment.string(), ": ", StatusText(s),
                      " (PostgreSQL keeps the segment and retries: WAL piles up; SEMANTICS 3.4)"));
    }
    done.push_back(Cat("archived ", kTestSegment));
  }
  if (restore) {
    const std::filesystem::path destination = dir / "RECOVERYXLOG";
    std::filesystem::remove(destination, ec);
    if (archive) {
      absl::Status s = client.RestoreWal(cluster, kTestSegment, destination.string());
      if (!s.ok()) {
        return Fail(Cat("Restore of the segment just archived: ", StatusText(s),
                        " (recovery cannot get it; SEMANTICS 3.5)"));
      }
      std::ifstream in(destination, std::ios::binary);
      std::ostringstream restored;
      restored << in.rdbuf();
      if (!in && !std::filesystem::exists(destination)) {
        return Fail(Cat("Restore answered OK but wrote nothing at ", destination.string()));
      }
      if (restored.str() != content) {
        return Fail(Cat("Restore answered OK but ", destination.string(), " holds ",
                        restored.str().size(), " bytes that differ from the segment archived"));
      }
      done.push_back("restored it identically");
      std::filesystem::remove(destination, ec);
    }
    absl::Status missing = client.RestoreWal(cluster, kMissingSegment, destination.string());
    if (missing.ok()) {
      return Fail(Cat("Restore of ", kMissingSegment,
                      ", which was never archived, answered OK: PostgreSQL would replay "
                      "whatever is at the destination (SEMANTICS 3.5)"));
    }
    if (std::filesystem::exists(destination)) {
      warnings.push_back(Cat("Restore of a missing segment failed but left a file at ",
                             destination.string(),
                             " (tolerated: PostgreSQL ignores the file when restore_command "
                             "fails; SEMANTICS 3.5)"));
      std::filesystem::remove(destination, ec);
    }
    done.push_back(
        Cat("a missing segment gives ", absl::StatusCodeToString(missing.code()),
            missing.code() == absl::StatusCode::kNotFound ? "" : " (NOT_FOUND is the convention)"));
  }
  if (h.Advertises(Rpc::kSetFirstRequired)) {
    absl::Status s = client.SetFirstRequired(cluster, kTestSegment);
    if (IsTransportFailure(s) || s.code() == absl::StatusCode::kUnimplemented) {
      warnings.push_back(
          Cat("SetFirstRequired: ", StatusText(s), NotCalledReason(Rpc::kSetFirstRequired)));
    } else {
      done.push_back(Cat("SetFirstRequired answered ", StatusText(s)));
    }
  }
  std::filesystem::remove(segment, ec);
  if (!warnings.empty()) return Warn(JoinProblems(warnings));
  return Pass(absl::StrJoin(done, "; "));
}

Verdict BackupResult(CheckEnv& env) {
  if (!env.handshake().Advertises(Rpc::kBackup)) return Skip("Backup is not advertised");
  if (!env.options().run_backup) {
    return Skip("takes a real backup: pass --backup to run it");
  }
  const PluginClient client = env.client().WithTimeout(env.options().long_call_timeout);
  const Json backup = env.backup();
  std::map<std::string, std::string> parameters = env.options().backup_parameters;
  auto result = client.Backup(env.cluster(), backup, parameters);
  if (!result.ok()) {
    return Fail(Cat("Backup: ", StatusText(result.status()),
                    " (the Backup is marked failed; SEMANTICS 3.6)", ParameterHint(env)));
  }
  // The operator copies the answer into the Backup status (SEMANTICS 3.6).
  Findings found;
  constexpr char kCopied[] = " (the operator stores it in the Backup status; SEMANTICS 3.6)";
  if (result->backup_id().empty()) {
    found.warnings.push_back(
        Cat("backup_id is empty (tolerated: stored as an empty "
            "status.backupId; SEMANTICS 3.6)"));
  }
  if (result->started_at() <= 0) {
    found.failures.push_back(Cat("started_at is ", result->started_at(),
                                 ": Unix seconds expected, 0 is stored as 1970-01-01", kCopied));
  }
  if (result->stopped_at() <= 0) {
    found.failures.push_back(Cat("stopped_at is ", result->stopped_at(),
                                 ": Unix seconds expected, 0 is stored as 1970-01-01", kCopied));
  } else if (result->stopped_at() < result->started_at()) {
    found.warnings.push_back(
        "stopped_at is before started_at (tolerated: stored as it is; SEMANTICS 3.6)");
  }
  if (result->started_at() > 100000000000) {
    found.failures.push_back(
        Cat("started_at looks like milliseconds, not seconds: a date thousands of years ahead",
            kCopied));
  }
  return found.Conclude(Cat("backup \"", result->backup_id(), "\", ",
                            result->stopped_at() - result->started_at(),
                            " s, online=", result->online() ? "true" : "false"));
}

Verdict RestoreJobResult(CheckEnv& env) {
  if (!env.handshake().Advertises(Rpc::kRestoreJob)) {
    return Skip("RestoreJobHooks KIND_RESTORE is not advertised");
  }
  if (!env.options().run_restore_job) {
    return Skip("restores PGDATA where the plugin runs: pass --restore-job to run it");
  }
  const PluginClient client = env.client().WithTimeout(env.options().long_call_timeout);
  auto result = client.RestoreJob(env.recovery_cluster(), false);
  if (!result.ok()) {
    return Fail(Cat("Restore: ", StatusText(result.status()), " (the job fails; SEMANTICS 3.7)",
                    ParameterHint(env)));
  }
  Findings found;
  if (result->restore_config().find("restore_command") == std::string::npos) {
    found.failures.push_back(
        "restore_config has no restore_command: PostgreSQL could not fetch WAL during recovery "
        "(SEMANTICS 3.7)");
  }
  for (const std::string& env_entry : result->envs()) {
    const auto eq = env_entry.find('=');
    if (eq == std::string::npos || eq == 0) {
      found.warnings.push_back(Cat("envs entry \"", Abbreviated(env_entry),
                                   "\" is not NAME=VALUE (tolerated: it is passed to the recovery "
                                   "process as it is; SEMANTICS 3.7)"));
    }
  }
  return found.Conclude(Cat("restore_config with a restore_command, ",
                            Plural(static_cast<std::size_t>(result->envs_size()),
                                   "environment variable", "environment variables")));
}

}  // namespace

std::vector<CheckDefinition> SideEffectChecks() {
  return {
      {"wal.archive-restore",
       "(opt-in: --wal-dir) Archive then Restore return the same segment; a missing one fails",
       WalArchiveRestore},
      {"backup.result", "(opt-in: --backup) Backup fills backup_id and Unix-second timestamps",
       BackupResult},
      {"restore-job.result",
       "(opt-in: --restore-job) Restore answers a configuration with a restore_command",
       RestoreJobResult},
  };
}

}  // namespace cnpgi::testing::internal
