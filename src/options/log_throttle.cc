#include "options/log_throttle.h"

#include <algorithm>

namespace cnpgi::internal {

LogThrottle::Decision LogThrottle::Admit(Key key, std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = states_.try_emplace(key);
  State& state = it->second;
  if (inserted) {
    state.tokens = options_.burst;
    state.refilled = now;
  } else if (now > state.refilled) {
    const double earned = std::chrono::duration<double>(now - state.refilled) /
                          std::chrono::duration<double>(options_.interval);
    state.tokens = std::min<double>(options_.burst, state.tokens + earned);
    state.refilled = now;
  }
  if (state.tokens < 1) {
    ++state.suppressed;
    return {.write = false, .suppressed = state.suppressed};
  }
  state.tokens -= 1;
  const std::uint64_t suppressed = state.suppressed;
  state.suppressed = 0;
  return {.write = true, .suppressed = suppressed};
}

std::vector<std::pair<LogThrottle::Key, std::uint64_t>> LogThrottle::TakeSuppressed() {
  std::lock_guard lock(mu_);
  std::vector<std::pair<Key, std::uint64_t>> out;
  for (auto& [key, state] : states_) {
    if (state.suppressed == 0) continue;
    out.emplace_back(key, state.suppressed);
    state.suppressed = 0;
  }
  return out;
}

}  // namespace cnpgi::internal
