// Not part of the API. Keeps repeated log lines from flooding the log.
#ifndef CNPGI_SRC_OPTIONS_LOG_THROTTLE_H_
#define CNPGI_SRC_OPTIONS_LOG_THROTTLE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace cnpgi::internal {

// Decides which lines of a kind are written when the same thing happens over
// and over (a caller repeating a failing call, a client retrying a refused
// handshake). Lines are grouped by a key chosen by the caller, e.g. the
// method and the status code of a failed call. Per key, a burst of lines is
// written as they come, then one line per interval; the lines in between are
// only counted, and the next line written carries that count, so that the
// log still says how often it happened.
//
// Cost: one uncontended lock per line considered; lines that are written
// cost far more (formatting, a write to standard error).
class LogThrottle {
 public:
  // What identifies a kind of line: an address (a method's description, a
  // source file name) and a number (a status code, a line number).
  struct Key {
    const void* scope = nullptr;
    int detail = 0;
    bool operator==(const Key&) const = default;
  };

  struct Options {
    // Lines written at once, and the most that can be saved up.
    int burst = 10;
    // One more line may be written per interval.
    std::chrono::steady_clock::duration interval = std::chrono::seconds(5);
  };

  LogThrottle() : LogThrottle(Options{}) {}
  explicit LogThrottle(Options options) : options_(options) {}

  struct Decision {
    bool write = false;
    // Lines of this key not written since its last written line (when
    // `write`: the number to report with it).
    std::uint64_t suppressed = 0;
  };
  Decision Admit(Key key, std::chrono::steady_clock::time_point now);
  Decision Admit(Key key) { return Admit(key, std::chrono::steady_clock::now()); }

  // The keys with lines not written since their last written line, with
  // their counts; forgets those counts. For a summary when logging stops.
  std::vector<std::pair<Key, std::uint64_t>> TakeSuppressed();

 private:
  struct KeyHash {
    std::size_t operator()(const Key& k) const {
      return std::hash<const void*>()(k.scope) ^ (std::hash<int>()(k.detail) * 0x9e3779b97f4a7c15u);
    }
  };
  struct State {
    double tokens = 0;
    std::chrono::steady_clock::time_point refilled;
    std::uint64_t suppressed = 0;
  };

  const Options options_;
  std::mutex mu_;
  std::unordered_map<Key, State, KeyHash> states_;  // guarded by mu_
};

}  // namespace cnpgi::internal

#endif  // CNPGI_SRC_OPTIONS_LOG_THROTTLE_H_
