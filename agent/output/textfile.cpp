// SPDX-License-Identifier: Apache-2.0
#include "agent/output/textfile.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/output/prom_text.hpp"

namespace mxpulse {

namespace {
const MetricDesc kJobSuccess{"mxpulse_job_success",
                             "Whether the job's last run completed (1) or timed out or failed (0).",
                             MetricType::Gauge};
const MetricDesc kJobDuration{"mxpulse_job_duration_seconds", "Duration of the job's last run.",
                              MetricType::Gauge};
const MetricDesc kJobLastRun{"mxpulse_job_last_run_timestamp_seconds",
                             "When the job last ran, as a Unix time.", MetricType::Gauge};
const MetricDesc kJobStatus{"mxpulse_job_status",
                            "Worst check status of the job's last run (0 ok, 1 warning, "
                            "2 critical, 3 unknown).",
                            MetricType::Gauge};
const MetricDesc kJobRuns{"mxpulse_job_runs_total", "Runs of the job since the state DB was created.",
                          MetricType::Counter};
const MetricDesc kJobFailures{"mxpulse_job_failures_total",
                              "Runs of the job that timed out or failed.", MetricType::Counter};
const MetricDesc kJobOverruns{"mxpulse_job_overruns_total",
                              "Runs skipped because the previous run was still going.",
                              MetricType::Counter};
const MetricDesc kCheckStatus{"mxpulse_check_status",
                              "Latest status of a check (0 ok, 1 warning, 2 critical, 3 unknown).",
                              MetricType::Gauge};
const MetricDesc kBuildInfo{"mxpulse_build_info", "Version of the running mxpulse.",
                            MetricType::Gauge};
const MetricDesc kReloadOk{"mxpulse_config_last_reload_successful",
                           "Whether the last config load or reload succeeded.", MetricType::Gauge};
const MetricDesc kReloadAt{"mxpulse_config_last_reload_success_timestamp_seconds",
                           "When the config was last loaded successfully, as a Unix time.",
                           MetricType::Gauge};
const MetricDesc kAlertsFiring{"mxpulse_alerts_firing", "Alerts currently firing, by severity.",
                               MetricType::Gauge};
const MetricDesc kOutboxDepth{"mxpulse_alert_outbox_depth",
                              "Alert messages in the outbox that are not delivered, by state.",
                              MetricType::Gauge};
const MetricDesc kTelegramSends{"mxpulse_telegram_sends_total", "Telegram messages sent.",
                                MetricType::Counter};
const MetricDesc kTelegramErrors{"mxpulse_telegram_send_errors_total",
                                 "Telegram send attempts that failed (each retry counts).",
                                 MetricType::Counter};
const MetricDesc kStartedAt{"mxpulse_start_timestamp_seconds", "When the agent started, as a Unix time.",
                            MetricType::Gauge};
}  // namespace

std::string renderTextfile(const std::vector<JobStatusRow>& jobs,
                           const std::vector<LatestRow>& latest,
                           const std::vector<StoredSample>& samples, const AgentGauges& agent,
                           const AlertFigures* alerts) {
  PromWriter w;
  if (alerts) {
    for (const auto& [severity, n] : alerts->firing)
      w.add(Sample(kAlertsFiring, {{"severity", severity}}, static_cast<double>(n)));
    for (const auto& [state, n] : alerts->outboxDepth)
      w.add(Sample(kOutboxDepth, {{"state", state}}, static_cast<double>(n)));
    w.add(Sample(kTelegramSends, {}, static_cast<double>(alerts->sends)));
    w.add(Sample(kTelegramErrors, {}, static_cast<double>(alerts->sendErrors)));
  }
  w.add(Sample(kBuildInfo, {{"version", agent.version}}, 1));
  w.add(Sample(kReloadOk, {}, agent.configReloadOk ? 1 : 0));
  w.add(Sample(kReloadAt, {}, static_cast<double>(agent.configReloadSuccessAt)));
  if (agent.startedAt) w.add(Sample(kStartedAt, {}, static_cast<double>(agent.startedAt)));
  for (const auto& j : jobs) {
    Labels l = {{"job", j.job}, {"kind", j.kind}};
    if (j.runsTotal > 0) {
      w.add(Sample(kJobSuccess, l, j.lastSuccess ? 1 : 0));
      w.add(Sample(kJobDuration, l, static_cast<double>(j.lastDurationMs) / 1000.0));
      w.add(Sample(kJobLastRun, l, static_cast<double>(j.lastRunAt)));
      w.add(Sample(kJobStatus, l, static_cast<int>(j.lastStatus)));
    }
    w.add(Sample(kJobRuns, l, static_cast<double>(j.runsTotal)));
    w.add(Sample(kJobFailures, l, static_cast<double>(j.failuresTotal)));
    w.add(Sample(kJobOverruns, l, static_cast<double>(j.overrunsTotal)));
  }
  for (const auto& r : latest)
    w.add(Sample(kCheckStatus, {{"job", r.job}, {"check", r.check}, {"target", r.target}},
                 static_cast<int>(r.status)));
  for (const auto& s : samples)
    w.add(s.name, s.help, s.type == "counter" ? MetricType::Counter : MetricType::Gauge, s.labels,
          s.value);
  return w.render();
}

bool writeFileAtomically(const std::string& path, const std::string& content, std::string& error) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  // The temp name must not end in .prom: node_exporter would read it.
  std::string tmp = dir + "/." + base + ".tmp." + std::to_string(getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    int e = errno;
    error = "cannot write textfile in " + dir + ": " + std::strerror(e) +
            (e == ENOENT ? " (create the directory, or set agent.textfile)"
                         : " (make the directory writable by the mxpulse user; under systemd add "
                           "it to ReadWritePaths=)");
    return false;
  }
  const char* p = content.data();
  size_t left = content.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      error = "cannot write textfile " + tmp + ": " + std::strerror(e) +
              (e == ENOSPC ? " (disk full; the previous textfile is kept)" : "");
      return false;
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    error = "cannot flush textfile " + tmp + ": " + std::strerror(e);
    return false;
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    error = "cannot rename textfile into " + path + ": " + std::strerror(e);
    return false;
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);  // make the rename itself durable
    ::close(dfd);
  }
  return true;
}

}  // namespace mxpulse
