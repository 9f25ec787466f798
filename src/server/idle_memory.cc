#include "server/idle_memory.h"

#include <malloc.h>
#include <sys/mman.h>
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

// jemalloc's control interface, when the program is linked with it
// (cnpgi_link_statically(... ALLOCATOR jemalloc)); null otherwise.
extern "C" int mallctl(const char* name, void* oldp, std::size_t* oldlenp, void* newp,
                       std::size_t newlen) __attribute__((weak));

namespace cnpgi::internal {
namespace {

struct Mapping {
  std::uintptr_t start = 0;
  std::uintptr_t end = 0;
  bool candidate = false;  // read-only, file-backed
  std::size_t rss_kb = 0;
  std::size_t anonymous_kb = 0;
};

// The mappings of /proc/self/smaps that hold only file pages: read-only
// (no write permission, so none can be added later), backed by a file, and
// without private copies (Anonymous: 0 kB), so that dropping their pages
// loses nothing the file does not hold.
std::vector<Mapping> DroppableMappings() {
  std::vector<Mapping> out;
  std::FILE* smaps = std::fopen("/proc/self/smaps", "re");
  if (smaps == nullptr) return out;
  Mapping current;
  bool have = false;
  auto flush = [&] {
    if (have && current.candidate && current.anonymous_kb == 0 && current.rss_kb > 0) {
      out.push_back(current);
    }
  };
  char line[4096];
  while (std::fgets(line, sizeof(line), smaps) != nullptr) {
    unsigned long start = 0, end = 0;
    char perms[8] = {};
    int path_at = 0;
    // Header lines: "start-end perms offset dev inode [path]".
    if (std::sscanf(line, "%lx-%lx %7s %*s %*s %*s %n", &start, &end, perms, &path_at) == 3 &&
        std::strchr(line, '-') < std::strchr(line, ' ')) {
      flush();
      current = Mapping{start, end, false, 0, 0};
      have = true;
      current.candidate = perms[0] == 'r' && perms[1] != 'w' && line[path_at] == '/';
      continue;
    }
    std::size_t kb = 0;
    if (std::sscanf(line, "Rss: %zu kB", &kb) == 1) current.rss_kb = kb;
    if (std::sscanf(line, "Anonymous: %zu kB", &kb) == 1) current.anonymous_kb = kb;
  }
  flush();
  std::fclose(smaps);
  return out;
}

absl::Duration ProcessCpu() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return absl::DurationFromTimespec(t);
}

}  // namespace

IdleTrimResult TrimIdleMemory() {
  // Free heap memory first: it is the one part that is anonymous, so it is
  // only given back here (glibc keeps it otherwise; jemalloc after seconds,
  // and only when the program allocates again).
  malloc_trim(0);
  if (mallctl != nullptr) {
    // jemalloc: the free pages of every arena ("arena.<MALLCTL_ARENAS_ALL>").
    mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
  }
  IdleTrimResult result;
  for (const Mapping& m : DroppableMappings()) {
    if (madvise(reinterpret_cast<void*>(m.start), m.end - m.start, MADV_DONTNEED) == 0) {
      ++result.mappings;
      result.file_bytes += m.rss_kb * 1024;
    }
  }
  return result;
}

bool IdleTrimmer::Due(absl::Time now, absl::Duration cpu) {
  if (!started_ || cpu - last_cpu_ >= policy_.busy_cpu) {
    // Busy (or the first tick): the quiet spell starts now.
    started_ = true;
    armed_ = true;
    quiet_since_ = now;
    last_cpu_ = cpu;
    return false;
  }
  last_cpu_ = cpu;
  const absl::Duration wait = trimmed_once_ ? policy_.later_quiet : policy_.first_quiet;
  return armed_ && now - quiet_since_ >= wait;
}

void IdleTrimmer::Trimmed(absl::Duration cpu_after) {
  armed_ = false;
  trimmed_once_ = true;
  last_cpu_ = cpu_after;
}

std::optional<IdleTrimResult> IdleTrimmer::Tick() {
  if (!Due(absl::Now(), ProcessCpu())) return std::nullopt;
  const IdleTrimResult result = TrimIdleMemory();
  Trimmed(ProcessCpu());
  return result;
}

}  // namespace cnpgi::internal
