// Giving memory back while a plugin idles. A sidecar plugin spends most of
// its life waiting for the next WAL segment, in every PostgreSQL Pod, so
// what it keeps resident at rest is what its users pay most
// (docs/benchmarks.md, "Against Go").
#ifndef CNPGI_SRC_SERVER_IDLE_MEMORY_H_
#define CNPGI_SRC_SERVER_IDLE_MEMORY_H_

#include <cstddef>
#include <optional>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace cnpgi::internal {

struct IdleTrimResult {
  // Read-only file mappings whose pages were dropped, and their resident
  // size before (bytes).
  std::size_t mappings = 0;
  std::size_t file_bytes = 0;
};

// Returns what the process can take back cheaply, without changing what it
// computes: the allocator's free memory (malloc_trim), and the resident
// pages of read-only file mappings that hold no private copy (the
// executable's code and constants, those of shared libraries). Those pages
// stay in the page cache; the next use maps them again (a minor fault).
// Mappings with private (copied-on-write) pages, such as the RELRO part of
// a data segment, are left alone, so no written byte is ever dropped.
IdleTrimResult TrimIdleMemory();

// Decides when to call TrimIdleMemory(), from the process's CPU time only,
// so that the calls pay nothing for it: after `first_quiet` of quiet
// following start-up, then after `later_quiet` of quiet following each busy
// spell (longer, so that a plugin called every few seconds does not fault
// its code in again after every call). Quiet: less than `busy_cpu` of CPU
// used per tick.
class IdleTrimmer {
 public:
  struct Policy {
    absl::Duration first_quiet = absl::Seconds(1);
    absl::Duration later_quiet = absl::Seconds(30);
    absl::Duration busy_cpu = absl::Milliseconds(2);
  };
  explicit IdleTrimmer(Policy policy) : policy_(policy) {}

  // True when a trim is due; `cpu` is the process's CPU time so far. Called
  // at the server's tick (every 100 ms).
  bool Due(absl::Time now, absl::Duration cpu);
  // To be called after the trim ran, with the CPU time after it, so that
  // the trim's own work does not count as activity.
  void Trimmed(absl::Duration cpu_after);

  // Due() with the clocks read here; runs TrimIdleMemory() when due and
  // answers what it did.
  std::optional<IdleTrimResult> Tick();

 private:
  Policy policy_;
  bool started_ = false;
  bool armed_ = true;
  bool trimmed_once_ = false;
  absl::Time quiet_since_;
  absl::Duration last_cpu_;
};

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_SERVER_IDLE_MEMORY_H_
