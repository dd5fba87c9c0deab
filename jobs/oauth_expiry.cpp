// SPDX-License-Identifier: Apache-2.0
#include "jobs/oauth_expiry.hpp"

#include <cstdlib>
#include <set>

#include "agent/yaml_reader.hpp"
#include "probes/bounded_http.hpp"
#include "probes/time_text.hpp"

namespace mxpulse::jobs {

namespace {

const MetricDesc kExpiry{"mxpulse_oauth_token_expiry_timestamp_seconds",
                         "Access token (or JWT) expiry as a Unix time.", MetricType::Gauge};
const MetricDesc kFirstSeen{"mxpulse_oauth_refresh_token_first_seen_timestamp_seconds",
                            "When mxpulse first saw the current refresh token.", MetricType::Gauge};
const MetricDesc kRefreshExpiry{
    "mxpulse_oauth_refresh_token_expiry_timestamp_seconds",
    "First seen plus the refresh-token lifetime of apps in Testing status.", MetricType::Gauge};
const MetricDesc kProbeAccepted{"mxpulse_oauth_refresh_probe_accepted",
                                "Whether the token endpoint accepted the refresh token (1) or "
                                "refused it (0).",
                                MetricType::Gauge};
const MetricDesc kReadError{"mxpulse_oauth_token_read_error",
                            "The token source could not be read or parsed (1).", MetricType::Gauge};

Status tiers(std::int64_t left, std::int64_t warn, std::int64_t crit) {
  if (left <= crit) return Status::Critical;
  if (left <= warn) return Status::Warning;
  return Status::Ok;
}

std::string when(std::int64_t expiry, std::int64_t now) {
  std::int64_t left = expiry - now;
  std::string rel =
      left > 0 ? "expires in " + roughDuration(left) : "expired " + roughDuration(-left) + " ago";
  return rel + " (" + probes::formatUtc(expiry) + ")";
}

const char* kindName(TokenSourceKind k) {
  switch (k) {
    case TokenSourceKind::GoogleTokenJson:
      return "token_json";
    case TokenSourceKind::JwtFile:
      return "jwt_file";
    case TokenSourceKind::JwtEnv:
      return "jwt_env";
  }
  return "?";
}

/// The access-token / JWT / row expiry result.
CheckResult expiryResult(const OAuthExpiryParams& p, const std::string& name,
                         std::optional<std::int64_t> expiry, const std::string& expiryText,
                         bool refreshable, std::int64_t now, std::vector<Sample>& samples) {
  if (!expiry) {
    // google-auth treats a missing expiry as expired; without a refresh
    // token nothing can renew it.
    Status s = refreshable ? Status::Ok : Status::Critical;
    CheckResult r("oauth_token", name, s,
                  name + (refreshable ? ": no access-token expiry recorded (refreshable)"
                                      : ": no expiry recorded and no refresh token"));
    r.facts.set("expiry", Json());
    return r;
  }
  samples.emplace_back(kExpiry, Labels{{"name", name}}, static_cast<double>(*expiry));
  std::int64_t left = *expiry - now;
  Status s = refreshable ? Status::Ok : tiers(left, p.warnBefore, p.critBefore);
  std::string sum = name + ": " + (refreshable ? "access token " : "") + when(*expiry, now);
  if (refreshable) sum += "; refreshed by the application with its refresh token";
  CheckResult r("oauth_token", name, s, sum);
  r.facts.set("expiry", *expiry);
  r.facts.set("expiry_text", expiryText);
  r.facts.set("seconds_left", left);
  r.facts.set("refreshable", refreshable);
  return r;
}

class OAuthExpiryJob : public Job {
 public:
  explicit OAuthExpiryJob(OAuthExpiryParams p) : params_(std::move(p)) {}
  JobOutput run(JobContext& ctx) override {
    auto now = std::chrono::duration_cast<std::chrono::seconds>(ctx.now().time_since_epoch());
    return evaluateOAuthExpiry(params_, observeOAuthExpiry(params_, ctx.deadline()), now.count());
  }
  std::vector<std::string> plannedTargets(const JobContext&) const override {
    std::vector<std::string> out;
    for (const auto& t : params_.tokens) {
      out.push_back("oauth_token " + t.name);
      if (t.kind == TokenSourceKind::GoogleTokenJson)
        out.push_back("oauth_refresh_token " + t.name);
    }
    for (const auto& s : params_.sql) out.push_back("oauth_token " + s.name + "/* (SQL rows)");
    return out;
  }

 private:
  OAuthExpiryParams params_;
};

}  // namespace

std::optional<OAuthExpiryParams> parseOAuthExpiryParams(MapReader& r, const JobBuildEnv& env) {
  OAuthExpiryParams p;
  size_t before = r.errors().size();
  auto secs = [](Millis m) { return static_cast<std::int64_t>(m.count() / 1000); };
  p.warnBefore = secs(r.duration("warn_before", std::chrono::hours(24)));
  p.critBefore = secs(r.duration("crit_before", std::chrono::hours(6)));
  if (p.critBefore > p.warnBefore)
    r.errors().add(r.node("crit_before"), r.childPath("crit_before"),
                   "must not be longer than warn_before");
  p.refreshLifetime = secs(r.duration("refresh_token_lifetime", std::chrono::hours(24 * 7)));
  p.refreshWarnBefore = secs(r.duration("refresh_token_warn_before", std::chrono::hours(24)));
  p.stateDb = env.stateDb;
  std::set<std::string> names;
  YAML::Node tokens = r.node("tokens");
  if (tokens.IsDefined() && !tokens.IsNull()) {
    if (!tokens.IsSequence()) {
      r.errors().add(tokens, r.childPath("tokens"), "must be a list");
    } else {
      for (size_t i = 0; i < tokens.size(); ++i) {
        MapReader t(tokens[i], indexPath(r.childPath("tokens"), i), r.errors());
        if (!t.ok()) continue;
        OAuthTokenSpec spec;
        spec.name = t.optString("name", true).value_or("");
        int sources = 0;
        if (auto v = t.optString("token_json")) {
          spec.kind = TokenSourceKind::GoogleTokenJson;
          spec.location = *v;
          ++sources;
        }
        if (auto v = t.optString("jwt_file")) {
          spec.kind = TokenSourceKind::JwtFile;
          spec.location = *v;
          ++sources;
        }
        if (auto v = t.optString("jwt_env")) {
          spec.kind = TokenSourceKind::JwtEnv;
          spec.location = *v;
          ++sources;
        }
        if (sources != 1)
          t.errors().add(tokens[i], t.path(), "give exactly one of token_json, jwt_file, jwt_env");
        spec.testingApp = t.boolean("testing_app", true);
        spec.liveProbe = t.boolean("live_probe", false);
        spec.tokenEndpoint = t.str("token_endpoint", spec.tokenEndpoint);
        probes::HttpUrl url;
        std::string error;
        if (!probes::parseHttpUrl(spec.tokenEndpoint, url, error))
          t.errors().add(t.node("token_endpoint"), t.childPath("token_endpoint"), error);
        if ((spec.liveProbe || t.has("testing_app")) &&
            spec.kind != TokenSourceKind::GoogleTokenJson)
          t.errors().add(tokens[i], t.path(),
                         "testing_app and live_probe apply to token_json only");
        if (!spec.name.empty() && !names.insert(spec.name).second)
          t.errors().add(t.node("name"), t.childPath("name"),
                         "duplicate token name '" + spec.name + "'");
        t.finish();
        p.tokens.push_back(std::move(spec));
      }
    }
  }
  YAML::Node sql = r.node("sql");
  if (sql.IsDefined() && !sql.IsNull()) {
    if (!sql.IsSequence()) {
      r.errors().add(sql, r.childPath("sql"), "must be a list");
    } else {
      for (size_t i = 0; i < sql.size(); ++i) {
        MapReader s(sql[i], indexPath(r.childPath("sql"), i), r.errors());
        if (!s.ok()) continue;
        OAuthSqlSpec spec;
        spec.name = s.optString("name", true).value_or("");
        spec.maxRows = static_cast<size_t>(s.integer("max_rows", 100, 1, 10000));
        if (auto src = parseSqlSource(s, env)) spec.source = std::move(*src);
        if (!spec.name.empty() && !names.insert(spec.name).second)
          s.errors().add(s.node("name"), s.childPath("name"), "duplicate name '" + spec.name + "'");
        s.finish();
        p.sql.push_back(std::move(spec));
      }
    }
  }
  if (p.tokens.empty() && p.sql.empty())
    r.errors().add(r.self(), r.path(), "give at least one entry in tokens or sql");
  if (r.errors().size() != before) return std::nullopt;
  return p;
}

OAuthObservations observeOAuthExpiry(const OAuthExpiryParams& params, Deadline deadline) {
  OAuthObservations obs;
  for (const auto& spec : params.tokens) {
    TokenObservation t;
    t.spec = &spec;
    if (spec.kind == TokenSourceKind::GoogleTokenJson) {
      probes::GoogleTokenFile f = probes::readGoogleTokenJson(spec.location);
      t.ok = f.ok;
      t.error = f.error;
      t.expiry = f.expiry;
      t.expiryText = f.expiryText;
      t.hasRefreshToken = !f.refreshToken.empty();
      if (t.ok && t.hasRefreshToken) {
        t.fingerprint = probes::tokenFingerprint(f.refreshToken);
        probes::SqlRows rows =
            readState(params.stateDb,
                      "SELECT first_seen FROM oauth_expiry_refresh_tokens WHERE fingerprint = " +
                          sqlQuote(t.fingerprint),
                      deadline);
        t.stateRead = rows.ok;
        t.stateError = rows.error;
        if (rows.ok && !rows.rows.empty() && rows.rows[0][0])
          t.firstSeen = std::strtoll(rows.rows[0][0]->c_str(), nullptr, 10);
        if (spec.liveProbe)
          t.probe = probes::probeRefreshToken(spec.tokenEndpoint, f.clientId, f.clientSecret,
                                              f.refreshToken, deadline);
      }
      f.refreshToken.assign(f.refreshToken.size(), '\0');
      f.clientSecret.assign(f.clientSecret.size(), '\0');
    } else {
      std::string token, error;
      bool read = false;
      if (spec.kind == TokenSourceKind::JwtFile) {
        read = probes::readTokenFile(spec.location, token, error);
      } else {
        const char* v = std::getenv(spec.location.c_str());
        read = v && *v;
        if (read)
          token = v;
        else
          error = "environment variable " + spec.location + " is not set";
      }
      if (read) {
        probes::JwtInfo j = probes::decodeJwt(token);
        t.ok = j.ok;
        t.error = j.error;
        if (j.exp) {
          t.expiry = static_cast<std::int64_t>(*j.exp);
          t.expiryText = std::to_string(*j.exp);
        }
        token.assign(token.size(), '\0');
      } else {
        t.error = error;
      }
    }
    obs.tokens.push_back(std::move(t));
  }
  for (const auto& spec : params.sql) {
    SqlObservation s;
    s.spec = &spec;
    probes::SqlRows rows = runSqlSource(spec.source, deadline);
    s.ok = rows.ok;
    s.error = rows.error;
    if (rows.ok && rows.columns.size() < 2) {
      s.ok = false;
      s.error = "the query must return (name, expires_at) columns";
    }
    if (s.ok) {
      for (const auto& row : rows.rows) {
        if (s.rows.size() >= spec.maxRows) {
          s.truncated = true;
          break;
        }
        SqlTokenRow t;
        t.name = row[0].value_or("");
        t.expiryText = row[1].value_or("");
        if (row[1]) t.expiry = probes::parseTimestamp(*row[1]);
        s.rows.push_back(std::move(t));
      }
    }
    obs.sql.push_back(std::move(s));
  }
  return obs;
}

JobOutput evaluateOAuthExpiry(const OAuthExpiryParams& p, const OAuthObservations& obs,
                              std::int64_t now) {
  JobOutput out;
  for (const auto& t : obs.tokens) {
    const OAuthTokenSpec& spec = *t.spec;
    if (!t.ok) {
      CheckResult r("oauth_token", spec.name, Status::Unknown,
                    spec.name + ": cannot read " + kindName(spec.kind) + ": " + t.error);
      r.facts.set("source", kindName(spec.kind));
      r.facts.set("error", t.error);
      out.results.push_back(std::move(r));
      out.samples.emplace_back(kReadError, Labels{{"name", spec.name}}, 1);
      continue;
    }
    CheckResult er =
        expiryResult(p, spec.name, t.expiry, t.expiryText, t.hasRefreshToken, now, out.samples);
    er.facts.set("source", kindName(spec.kind));
    out.results.push_back(std::move(er));
    if (spec.kind != TokenSourceKind::GoogleTokenJson) continue;

    if (!t.hasRefreshToken) continue;
    // The refresh token: age against the Testing-status lifetime, and the
    // live probe.
    bool tracked = t.stateRead;
    std::int64_t firstSeen = t.firstSeen.value_or(now);
    std::int64_t age = now - firstSeen;
    bool ageRule = spec.testingApp && p.refreshLifetime > 0;
    Status status = Status::Ok;
    std::string sum = spec.name + ": refresh token " + t.fingerprint;
    if (tracked) {
      sum += t.firstSeen ? " first seen " + roughDuration(age) + " ago" : " first seen now";
      out.samples.emplace_back(kFirstSeen, Labels{{"name", spec.name}},
                               static_cast<double>(firstSeen));
      out.stateWrites.push_back(StateWrite{
          "INSERT INTO oauth_expiry_refresh_tokens (fingerprint, name, first_seen, last_seen) "
          "VALUES (?, ?, ?, ?) ON CONFLICT (fingerprint) DO UPDATE SET "
          "last_seen = excluded.last_seen, name = excluded.name",
          {t.fingerprint, spec.name, std::to_string(firstSeen), std::to_string(now)}});
    } else {
      sum += " (age not tracked: " + t.stateError + ")";
    }
    if (ageRule && tracked) {
      std::int64_t expires = firstSeen + p.refreshLifetime;
      std::int64_t left = expires - now;
      out.samples.emplace_back(kRefreshExpiry, Labels{{"name", spec.name}},
                               static_cast<double>(expires));
      if (left <= 0) {
        status = Status::Critical;
        sum += "; past the " + roughDuration(p.refreshLifetime) +
               " life of refresh tokens of apps in Testing: expect invalid_grant, re-consent";
      } else if (left <= p.refreshWarnBefore) {
        status = Status::Warning;
        sum += "; a Testing app's refresh token expires in about " + roughDuration(left) +
               ": re-consent, or publish the app";
      } else {
        sum += "; Testing-app expiry in about " + roughDuration(left);
      }
    } else if (ageRule && !t.probe) {
      status = Status::Unknown;
    }
    if (t.probe) {
      const probes::RefreshProbe& pr = *t.probe;
      using O = probes::RefreshProbe::Outcome;
      switch (pr.outcome) {
        case O::Accepted:
          status = Status::Ok;  // accepted beats the age rule: the app is not in Testing
          sum += "; accepted by the token endpoint";
          break;
        case O::InvalidGrant:
          status = Status::Critical;
          sum += "; refused: invalid_grant" +
                 (pr.description.empty() ? std::string() : " (" + pr.description + ")") +
                 ": re-consent needed";
          break;
        case O::ClientError:
          status = Status::Critical;
          sum += "; refused: " + pr.error + " (HTTP " + std::to_string(pr.httpStatus) + ")" +
                 (pr.description.empty() ? std::string() : ": " + pr.description);
          break;
        case O::ServerError:
        case O::Unreachable:
          status = worse(status, Status::Unknown);
          sum += "; live probe failed: " + pr.error;
          break;
      }
      if (pr.outcome != O::ServerError && pr.outcome != O::Unreachable)
        out.samples.emplace_back(kProbeAccepted, Labels{{"name", spec.name}},
                                 pr.outcome == O::Accepted ? 1.0 : 0.0);
    }
    CheckResult r("oauth_refresh_token", spec.name, status, sum);
    r.facts.set("fingerprint", t.fingerprint);
    r.facts.set("first_seen", tracked ? Json(firstSeen) : Json());
    r.facts.set("age_seconds", tracked ? Json(age) : Json());
    r.facts.set("testing_app", spec.testingApp);
    if (t.probe) {
      Json probe = Json::object();
      probe.set("outcome", probes::refreshOutcomeName(t.probe->outcome));
      probe.set("http_status", t.probe->httpStatus);
      probe.set("error", t.probe->error);
      probe.set("description", t.probe->description);
      r.facts.set("probe", probe);
    }
    out.results.push_back(std::move(r));
  }

  for (const auto& s : obs.sql) {
    const OAuthSqlSpec& spec = *s.spec;
    if (!s.ok) {
      CheckResult r("oauth_token", spec.name, Status::Unknown,
                    spec.name + ": SQL source failed: " + s.error);
      r.facts.set("source", spec.source.describe());
      r.facts.set("error", s.error);
      out.results.push_back(std::move(r));
      out.samples.emplace_back(kReadError, Labels{{"name", spec.name}}, 1);
      continue;
    }
    for (const auto& row : s.rows) {
      std::string name = spec.name + "/" + row.name;
      if (!row.expiry) {
        CheckResult r("oauth_token", name, Status::Unknown,
                      name + ": expires_at '" + row.expiryText + "' is not a time");
        r.facts.set("source", spec.source.describe());
        out.results.push_back(std::move(r));
        out.samples.emplace_back(kReadError, Labels{{"name", name}}, 1);
        continue;
      }
      CheckResult r = expiryResult(p, name, row.expiry, row.expiryText, false, now, out.samples);
      r.facts.set("source", spec.source.describe());
      if (s.truncated) r.facts.set("rows_truncated_at", static_cast<long long>(spec.maxRows));
      out.results.push_back(std::move(r));
    }
  }
  return out;
}

JobKind oauthExpiryKind() {
  return JobKind{"oauth_expiry",
                 "OAuth token expiry (token.json, JWT, SQL) and refresh-token health",
                 [](MapReader& params, const JobBuildEnv& env) -> std::unique_ptr<Job> {
                   auto p = parseOAuthExpiryParams(params, env);
                   if (!p) return nullptr;
                   return std::make_unique<OAuthExpiryJob>(std::move(*p));
                 }};
}

}  // namespace mxpulse::jobs
