// SPDX-License-Identifier: Apache-2.0
#include "agent/report.hpp"

#include <ctime>

namespace mxpulse {

std::vector<ReportLine> reportLines(const RunRecord& run) {
  std::vector<ReportLine> out;
  for (const auto& r : run.output.results) {
    ReportLine l;
    l.job = run.job;
    l.kind = run.kind;
    l.check = r.check;
    l.target = r.target;
    l.status = r.status;
    l.summary = r.summary;
    l.factsJson = r.facts.isNull() ? "{}" : r.facts.dump();
    l.observedAt = run.startedAt;
    out.push_back(std::move(l));
  }
  return out;
}

std::string isoTime(std::int64_t unixSeconds) {
  std::time_t t = static_cast<std::time_t>(unixSeconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string formatJsonLine(const ReportLine& l) {
  Json j = Json::object();
  j.set("job", l.job);
  j.set("kind", l.kind);
  j.set("check", l.check);
  j.set("target", l.target);
  j.set("status", statusName(l.status));
  j.set("summary", l.summary);
  j.set("facts", Json::raw(l.factsJson));
  if (l.observedAt) j.set("observed_at", isoTime(l.observedAt));
  if (l.since) j.set("since", isoTime(l.since));
  return j.dump();
}

std::string formatTextLine(const ReportLine& l) {
  std::string status = statusName(l.status);
  for (auto& c : status) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string out = status;
  out.resize(9, ' ');
  out += l.job + "/" + l.check + " " + l.target + ": " + l.summary;
  if (l.since && l.status != Status::Ok) out += " (since " + isoTime(l.since) + ")";
  return out;
}

int exitCodeFor(const std::vector<ReportLine>& lines) {
  bool warning = false, unknown = false;
  for (const auto& l : lines) {
    if (l.status == Status::Critical) return 2;
    warning = warning || l.status == Status::Warning;
    unknown = unknown || l.status == Status::Unknown;
  }
  return warning ? 1 : unknown ? 3 : 0;
}

}  // namespace mxpulse
