// SPDX-License-Identifier: Apache-2.0
#include "jobs/dlq_depth.hpp"

#include <cstdlib>
#include <set>

#include "agent/yaml_reader.hpp"
#include "probes/bounded_http.hpp"
#include "probes/digest.hpp"
#include "probes/time_text.hpp"

namespace mxpulse::jobs {

namespace {

const MetricDesc kMessages{"mxpulse_dlq_messages",
                           "Messages in the dead-letter queue (visible, in flight and delayed).",
                           MetricType::Gauge};
const MetricDesc kSqsMessages{"mxpulse_dlq_sqs_messages",
                              "Approximate messages in the SQS dead-letter queue by state.",
                              MetricType::Gauge};
const MetricDesc kOldest{"mxpulse_dlq_oldest_message_timestamp_seconds",
                         "When the oldest message in the dead-letter queue arrived.",
                         MetricType::Gauge};
const MetricDesc kReadError{"mxpulse_dlq_read_error",
                            "The dead-letter queue could not be read (1).", MetricType::Gauge};

std::string plural(std::int64_t n, const char* one, const char* many) {
  return groupDigits(n) + " " + (n == 1 ? one : many);
}

class DlqDepthJob : public Job {
 public:
  explicit DlqDepthJob(DlqDepthParams p) : params_(std::move(p)) {}
  JobOutput run(JobContext& ctx) override {
    auto now =
        std::chrono::duration_cast<std::chrono::seconds>(ctx.now().time_since_epoch()).count();
    return evaluateDlqDepth(params_, observeDlqDepth(params_, now, ctx.deadline()), now);
  }
  std::vector<std::string> plannedTargets(const JobContext&) const override {
    std::vector<std::string> out;
    for (const auto& q : params_.queues) out.push_back("dlq_depth " + q.name);
    return out;
  }

 private:
  DlqDepthParams params_;
};

}  // namespace

std::optional<DlqDepthParams> parseDlqDepthParams(MapReader& r, const JobBuildEnv& env) {
  DlqDepthParams p;
  size_t before = r.errors().size();
  p.warnMessages = r.integer("warn_messages", 1, 0, 1LL << 40);
  p.critMessages = r.integer("crit_messages", 0, 0, 1LL << 40);
  p.critGrowth = r.integer("crit_growth", 1, 0, 1LL << 40);
  p.critAgeSeconds = r.duration("crit_age", std::chrono::hours(1)).count() / 1000;
  if (p.critMessages > 0 && p.warnMessages > 0 && p.critMessages < p.warnMessages)
    r.errors().add(r.node("crit_messages"), r.childPath("crit_messages"),
                   "must not be below warn_messages");
  p.stateDb = env.stateDb;
  YAML::Node queues = r.node("queues");
  std::set<std::string> names;
  if (!queues.IsDefined() || !queues.IsSequence() || queues.size() == 0) {
    r.errors().add(queues.IsDefined() ? queues : r.self(), r.childPath("queues"),
                   "must be a non-empty list of queues");
  } else {
    for (size_t i = 0; i < queues.size(); ++i) {
      MapReader q(queues[i], indexPath(r.childPath("queues"), i), r.errors());
      if (!q.ok()) continue;
      DlqQueueSpec spec;
      spec.name = q.optString("name", true).value_or("");
      bool isSqs = q.has("queue_url"), isSql = q.has("query");
      if (isSqs == isSql) {
        q.errors().add(queues[i], q.path(), "give either queue_url (SQS) or query (SQL)");
      } else if (isSqs) {
        spec.sqs = true;
        spec.queue.queueUrl = q.str("queue_url", "");
        spec.queue.endpoint = q.str("endpoint", "");
        spec.queue.region = q.str("region", "");
        std::string protocol = q.str("protocol", "json");
        if (protocol == "json")
          spec.queue.protocol = probes::SqsProtocol::Json;
        else if (protocol == "query")
          spec.queue.protocol = probes::SqsProtocol::Query;
        else
          q.errors().add(q.node("protocol"), q.childPath("protocol"), "must be json or query");
        probes::HttpUrl url;
        std::string error;
        if (!probes::parseHttpUrl(spec.queue.queueUrl, url, error))
          q.errors().add(q.node("queue_url"), q.childPath("queue_url"), error);
        if (!spec.queue.endpoint.empty() && !probes::parseHttpUrl(spec.queue.endpoint, url, error))
          q.errors().add(q.node("endpoint"), q.childPath("endpoint"), error);
        spec.credentials.accessKeyId =
            q.secret("access_key_id", false, env.resolveSecrets).value_or("");
        spec.credentials.secretAccessKey =
            q.secret("secret_access_key", false, env.resolveSecrets).value_or("");
        spec.credentials.sessionToken =
            q.secret("session_token", false, env.resolveSecrets).value_or("");
        bool hasId = q.has("access_key_id") || q.has("access_key_id_file");
        bool hasSecret = q.has("secret_access_key") || q.has("secret_access_key_file");
        if (hasId != hasSecret)
          q.errors().add(queues[i], q.path(),
                         "give both access_key_id and secret_access_key, or neither");
        spec.credentials.profile = q.str("profile", "");
        spec.credentials.credentialsFile = q.str("credentials_file", "");
        spec.sourceId = probes::sha256Hex("sqs " + spec.queue.queueUrl).substr(0, 16);
      } else {
        spec.sqs = false;
        if (auto src = parseSqlSource(q, env)) spec.sql = std::move(*src);
        spec.sourceId =
            probes::sha256Hex("sql " + spec.sql.describe() + "\n" + spec.sql.query).substr(0, 16);
      }
      if (!spec.name.empty() && !names.insert(spec.name).second)
        q.errors().add(q.node("name"), q.childPath("name"),
                       "duplicate queue name '" + spec.name + "'");
      q.finish();
      p.queues.push_back(std::move(spec));
    }
  }
  if (r.errors().size() != before) return std::nullopt;
  return p;
}

std::vector<DlqObservation> observeDlqDepth(const DlqDepthParams& params, std::int64_t now,
                                            Deadline deadline) {
  std::vector<DlqObservation> out;
  for (const auto& spec : params.queues) {
    DlqObservation o;
    o.spec = &spec;
    if (spec.sqs) {
      std::string error;
      probes::AwsCredentials creds = probes::resolveAwsCredentials(spec.credentials, error);
      o.credentialSource = creds.source;
      if (!creds.valid()) {
        o.error = error;
      } else {
        probes::SqsAttributes a = probes::sqsGetQueueAttributes(spec.queue, creds, now, deadline);
        o.ok = a.ok;
        o.error = a.error;
        o.errorCode = a.errorCode;
        o.visible = a.visible;
        o.inFlight = a.notVisible;
        o.delayed = a.delayed;
        o.depth = a.visible.value_or(0) + a.notVisible.value_or(0) + a.delayed.value_or(0);
      }
      creds.secretAccessKey.assign(creds.secretAccessKey.size(), '\0');
    } else {
      probes::SqlRows rows = runSqlSource(spec.sql, deadline);
      o.ok = rows.ok;
      o.error = rows.error;
      if (o.ok) {
        const std::optional<std::string>* cell =
            rows.rows.empty() || rows.rows[0].empty() ? nullptr : &rows.rows[0][0];
        char* end = nullptr;
        long long n = cell && *cell ? std::strtoll((*cell)->c_str(), &end, 10) : -1;
        if (rows.rows.size() != 1 || !cell || !*cell || !end || *end != '\0' || n < 0) {
          o.ok = false;
          o.error = "the query must return one row whose first column is a count";
        } else {
          o.depth = n;
          if (rows.rows[0].size() > 1 && rows.rows[0][1])
            o.oldest = probes::parseTimestamp(*rows.rows[0][1]);
        }
      }
    }
    if (o.ok) {
      probes::SqlRows prev = readState(params.stateDb,
                                       "SELECT messages, observed_at FROM dlq_depth_last WHERE "
                                       "source = " +
                                           sqlQuote(spec.sourceId),
                                       deadline);
      if (prev.ok && !prev.rows.empty() && prev.rows[0][0] && prev.rows[0][1]) {
        o.previous = std::strtoll(prev.rows[0][0]->c_str(), nullptr, 10);
        o.previousAt = std::strtoll(prev.rows[0][1]->c_str(), nullptr, 10);
      }
    }
    out.push_back(std::move(o));
  }
  return out;
}

JobOutput evaluateDlqDepth(const DlqDepthParams& p, const std::vector<DlqObservation>& obs,
                           std::int64_t now) {
  JobOutput out;
  for (const auto& o : obs) {
    const DlqQueueSpec& spec = *o.spec;
    Labels q{{"queue", spec.name}};
    std::string where = spec.sqs ? spec.queue.queueUrl : spec.sql.describe();
    if (!o.ok) {
      CheckResult r("dlq_depth", spec.name, Status::Unknown,
                    spec.name + ": cannot read the queue: " + o.error);
      r.facts.set("source", where);
      r.facts.set("error", o.error);
      if (!o.errorCode.empty()) r.facts.set("error_code", o.errorCode);
      out.results.push_back(std::move(r));
      out.samples.emplace_back(kReadError, q, 1);
      continue;
    }
    Status status = Status::Ok;
    std::vector<std::string> why;
    if (p.critMessages > 0 && o.depth >= p.critMessages) {
      status = Status::Critical;
      why.push_back("critical at " + groupDigits(p.critMessages));
    }
    std::optional<std::int64_t> growth;
    if (o.previous) growth = o.depth - *o.previous;
    if (p.critGrowth > 0 && growth && *growth >= p.critGrowth) {
      status = Status::Critical;
      why.push_back("grew by " + groupDigits(*growth) + " since " +
                    roughDuration(now - o.previousAt.value_or(now)) + " ago");
    }
    std::optional<std::int64_t> age;
    if (o.oldest && o.depth > 0) age = std::max<std::int64_t>(0, now - *o.oldest);
    if (p.critAgeSeconds > 0 && age && *age >= p.critAgeSeconds) {
      status = Status::Critical;
      why.push_back("oldest over " + roughDuration(p.critAgeSeconds));
    }
    if (status == Status::Ok && p.warnMessages > 0 && o.depth >= p.warnMessages)
      status = Status::Warning;

    std::string sum = spec.name + ": " + plural(o.depth, "message", "messages");
    if (spec.sqs && (o.inFlight.value_or(0) || o.delayed.value_or(0)))
      sum += " (" + groupDigits(o.visible.value_or(0)) + " visible, " +
             groupDigits(o.inFlight.value_or(0)) + " in flight, " +
             groupDigits(o.delayed.value_or(0)) + " delayed)";
    if (age) sum += ", oldest " + roughDuration(*age) + " old";
    if (growth && *growth != 0 && !(p.critGrowth > 0 && *growth >= p.critGrowth))
      sum +=
          std::string(", ") + (*growth > 0 ? "+" : "") + groupDigits(*growth) + " since last run";
    for (const auto& w : why) sum += "; " + w;
    CheckResult r("dlq_depth", spec.name, status, sum);
    r.facts.set("source", where);
    r.facts.set("messages", o.depth);
    if (spec.sqs) {
      r.facts.set("visible", o.visible ? Json(*o.visible) : Json());
      r.facts.set("in_flight", o.inFlight ? Json(*o.inFlight) : Json());
      r.facts.set("delayed", o.delayed ? Json(*o.delayed) : Json());
      r.facts.set("credentials", o.credentialSource);
    }
    r.facts.set("oldest", o.oldest ? Json(*o.oldest) : Json());
    r.facts.set("previous", o.previous ? Json(*o.previous) : Json());
    r.facts.set("growth", growth ? Json(*growth) : Json());
    out.results.push_back(std::move(r));

    out.samples.emplace_back(kMessages, q, static_cast<double>(o.depth));
    if (spec.sqs) {
      for (const auto& [state, v] :
           {std::make_pair("visible", o.visible), std::make_pair("in_flight", o.inFlight),
            std::make_pair("delayed", o.delayed)})
        if (v)
          out.samples.emplace_back(kSqsMessages, Labels{{"queue", spec.name}, {"state", state}},
                                   static_cast<double>(*v));
    }
    if (o.oldest && o.depth > 0)
      out.samples.emplace_back(kOldest, q, static_cast<double>(*o.oldest));
    out.stateWrites.push_back(StateWrite{
        "INSERT INTO dlq_depth_last (source, name, messages, observed_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (source) DO UPDATE SET name = excluded.name, messages = excluded.messages, "
        "observed_at = excluded.observed_at",
        {spec.sourceId, spec.name, std::to_string(o.depth), std::to_string(now)}});
  }
  return out;
}

JobKind dlqDepthKind() {
  return JobKind{"dlq_depth", "dead-letter queue depth (AWS SQS, SQL count), growth and age",
                 [](MapReader& params, const JobBuildEnv& env) -> std::unique_ptr<Job> {
                   auto p = parseDlqDepthParams(params, env);
                   if (!p) return nullptr;
                   return std::make_unique<DlqDepthJob>(std::move(*p));
                 }};
}

}  // namespace mxpulse::jobs
