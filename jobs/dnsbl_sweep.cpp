// SPDX-License-Identifier: Apache-2.0
// dnsbl: the I/O shell. Every query of a sweep goes through one
// asynchronous resolver: the test points of every zone first, then every
// (target, zone) of the healthy zones, a bounded window at a time, with the
// TXT reason of each listing.
#include <algorithm>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "jobs/dnsbl.hpp"

namespace mxpulse::jobs {

using probes::DnsAnswer;
using probes::DnsStatus;

namespace {

/// Everything the resolver's callbacks touch, shared so that a callback
/// arriving after observeDnsbl() gave up finds live memory.
struct SweepState {
  std::mutex m;
  std::condition_variable cv;
  size_t pending = 0;
  bool closed = false;
  DnsblObservations obs;
};

/// Waits until nothing is pending, the deadline passes or a stop is asked.
bool waitIdle(SweepState& s, Deadline deadline, const std::function<bool()>& stopRequested,
              std::string& why) {
  std::unique_lock<std::mutex> lock(s.m);
  while (s.pending > 0) {
    if (deadline.expired()) {
      why = "the run's deadline passed";
      return false;
    }
    if (stopRequested && stopRequested()) {
      why = "the agent is stopping";
      return false;
    }
    s.cv.wait_for(lock, std::min<Deadline::Clock::duration>(deadline.remaining(),
                                                            std::chrono::milliseconds(100)));
  }
  return true;
}

}  // namespace

DnsblObservations observeDnsbl(const DnsblParams& params, std::vector<DnsblTarget> targets,
                               probes::DnsResolver& resolver, Deadline deadline,
                               const std::function<bool()>& stopRequested) {
  auto state = std::make_shared<SweepState>();
  state->obs.targets = std::move(targets);
  state->obs.zones.resize(params.zones.size());
  // Leave a little of the run's time for evaluating and storing.
  auto margin =
      std::min<Deadline::Clock::duration>(std::chrono::seconds(1), deadline.remaining() / 10);
  Deadline queryDeadline(deadline.at() - margin);
  // The resolver answers every query by queryDeadline; waiting a little
  // longer collects those answers (with their reasons) instead of racing them.
  Deadline waitDeadline(queryDeadline.at() + margin / 2);
  std::string why;

  // Phase 1: every zone's test points, all at once.
  for (size_t zi = 0; zi < params.zones.size(); ++zi) {
    const DnsblZone& z = params.zones[zi];
    if (!z.canary) continue;
    {
      std::lock_guard<std::mutex> lock(state->m);
      state->obs.zones[zi].queried = true;
      state->pending += 2;
    }
    for (int which = 0; which < 2; ++which) {
      std::string name =
          (which == 0 ? dnsbl::canaryListedName(z.profile) : dnsbl::canaryCleanName(z.profile)) +
          "." + z.queryZone;
      resolver.query(
          name, probes::RrType::A, queryDeadline, [state, zi, which](const DnsAnswer& a) {
            std::lock_guard<std::mutex> lock(state->m);
            if (state->closed) return;
            (which == 0 ? state->obs.zones[zi].listedProbe : state->obs.zones[zi].cleanProbe) = a;
            if (--state->pending == 0) state->cv.notify_all();
          });
    }
  }
  bool complete = waitIdle(*state, waitDeadline, stopRequested, why);

  // Phase 2: every target on every healthy zone; TXT for listings.
  if (complete) {
    std::vector<bool> healthy(params.zones.size(), true);
    for (size_t zi = 0; zi < params.zones.size(); ++zi) {
      if (!params.zones[zi].canary) continue;
      std::lock_guard<std::mutex> lock(state->m);
      // Do not hammer a zone that failed its test points.
      healthy[zi] =
          assessDnsblZone(params.zones[zi], state->obs.zones[zi]).state == ZoneHealthState::Healthy;
    }
    // Target-major order interleaves the zones, so that with per-zone rate
    // limits every zone's queue stays busy.
    std::vector<std::pair<size_t, size_t>> pairs;
    for (size_t ti = 0; ti < state->obs.targets.size(); ++ti)
      for (size_t zi = 0; zi < params.zones.size(); ++zi)
        if (healthy[zi] && dnsblApplies(state->obs.targets[ti], params.zones[zi]))
          pairs.emplace_back(ti, zi);
    {
      std::lock_guard<std::mutex> lock(state->m);
      state->obs.lookups.resize(pairs.size());
      for (size_t i = 0; i < pairs.size(); ++i) {
        state->obs.lookups[i].target = pairs[i].first;
        state->obs.lookups[i].zone = pairs[i].second;
      }
    }
    // At most `window` lookups are handed to the resolver at a time: memory
    // stays bounded by the window, not by targets x zones.
    const size_t window = std::max<size_t>(64, params.maxInFlight * 2);
    const size_t lowWater = window / 2;
    const bool fetchReason = params.fetchReason;
    auto done = [state, lowWater] {
      // Called with the lock held.
      --state->pending;
      if (state->pending == 0 || state->pending == lowWater) state->cv.notify_all();
    };
    size_t next = 0;
    while (next < pairs.size()) {
      size_t take;
      {
        std::unique_lock<std::mutex> lock(state->m);
        while (state->pending > lowWater && !queryDeadline.expired() &&
               !(stopRequested && stopRequested()))
          state->cv.wait_for(lock, std::chrono::milliseconds(100));
        if (queryDeadline.expired() || (stopRequested && stopRequested())) break;
        take = std::min(window - state->pending, pairs.size() - next);
        state->pending += take;
      }
      for (size_t end = next + take; next < end; ++next) {
        size_t i = next;
        const DnsblZone& z = params.zones[pairs[i].second];
        const DnsblTarget& t = state->obs.targets[pairs[i].first];
        resolver.query(
            dnsblQueryName(t, z), probes::RrType::A, queryDeadline,
            [state, i, &z, &t, &resolver, fetchReason, queryDeadline, done](const DnsAnswer& a) {
              std::string txtName;  // set when the listing's reason is wanted
              {
                std::lock_guard<std::mutex> lock(state->m);
                if (state->closed) return;
                DnsblLookup& l = state->obs.lookups[i];
                l.a = a;
                if (fetchReason && classifyDnsblAnswer(z, a).kind == DnsblOutcome::Listed) {
                  l.txtQueried = true;
                  ++state->pending;
                  txtName = dnsblQueryName(t, z);
                }
                done();
              }
              // Outside the lock: a resolver may answer synchronously.
              if (!txtName.empty())
                resolver.query(txtName, probes::RrType::TXT, queryDeadline,
                               [state, i, done](const DnsAnswer& txt) {
                                 std::lock_guard<std::mutex> lock(state->m);
                                 if (state->closed) return;
                                 state->obs.lookups[i].txt = std::make_shared<const DnsAnswer>(txt);
                                 done();
                               });
            });
      }
    }
    if (next < pairs.size()) {
      why = queryDeadline.expired() ? "the run's deadline passed" : "the agent is stopping";
      complete = false;
    } else {
      complete = waitIdle(*state, waitDeadline, stopRequested, why);
    }
  }

  std::lock_guard<std::mutex> lock(state->m);
  state->closed = true;
  DnsblObservations out = std::move(state->obs);
  if (!complete) {
    out.stopped = why;
    // Lookups without an answer yet stay at DnsAnswer's default: Timeout.
    for (auto& l : out.lookups)
      if (l.a.status == DnsStatus::Timeout && l.a.error.empty()) l.a.error = why;
  }
  return out;
}

}  // namespace mxpulse::jobs
