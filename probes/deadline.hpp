// SPDX-License-Identifier: Apache-2.0
// A point on the monotonic clock by which a piece of work must be done.
// Passed into every network call so nothing can wait forever.
#pragma once

#include <algorithm>
#include <chrono>

namespace mxpulse {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;

  Deadline() : at_(Clock::time_point::max()) {}
  explicit Deadline(Clock::time_point at) : at_(at) {}
  static Deadline in(Clock::duration d) { return Deadline(Clock::now() + d); }

  Clock::time_point at() const { return at_; }
  bool expired() const { return Clock::now() >= at_; }
  /// Time left, never negative.
  Clock::duration remaining() const {
    auto now = Clock::now();
    return now >= at_ ? Clock::duration::zero() : at_ - now;
  }
  int remainingMs() const {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(remaining()).count();
    return static_cast<int>(std::min<long long>(ms, 24LL * 3600 * 1000));
  }
  /// The earlier of this deadline and now + d.
  Deadline capped(Clock::duration d) const { return Deadline(std::min(at_, Clock::now() + d)); }

 private:
  Clock::time_point at_;
};

}  // namespace mxpulse
