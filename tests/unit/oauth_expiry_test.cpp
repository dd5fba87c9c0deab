// SPDX-License-Identifier: Apache-2.0
// oauth_expiry: token.json and JWT parsing, fingerprints, and the pure
// evaluator (two expiry tiers, the Testing-app refresh-token age, the live
// probe's outcomes, SQL rows) with a fixed `now`.
#include <boost/test/unit_test.hpp>

#include "agent/config_errors.hpp"
#include "agent/yaml_reader.hpp"
#include "jobs/oauth_expiry.hpp"
#include "probes/time_text.hpp"
#include "probes/token_sources.hpp"
#include "tests/support/status_print.hpp"

using namespace mxpulse;
using namespace mxpulse::jobs;
using probes::RefreshProbe;

namespace {

constexpr std::int64_t kNow = 1777636800;  // 2026-05-01 12:00:00 UTC

std::string jwt(const std::string& payload) {
  return probes::base64UrlEncode(R"({"alg":"RS256","typ":"JWT"})") + "." +
         probes::base64UrlEncode(payload) + ".c2lnbmF0dXJl";
}

OAuthExpiryParams params(const std::string& yaml) {
  ConfigErrors errors("t");
  YAML::Node node = YAML::Load(yaml);
  MapReader r(node, "params", errors);
  JobBuildEnv env;
  env.stateDb = "/nonexistent/state.db";
  auto p = parseOAuthExpiryParams(r, env);
  r.finish();
  std::string all;
  for (const auto& e : errors.errors()) all += e + "\n";
  BOOST_TEST_REQUIRE(p.has_value(), all);
  return *p;
}

const CheckResult* find(const JobOutput& out, const std::string& check, const std::string& target) {
  for (const auto& r : out.results)
    if (r.check == check && r.target == target) return &r;
  return nullptr;
}

TokenObservation tokenJson(const OAuthTokenSpec& spec, std::optional<std::int64_t> expiry,
                           bool refresh = true) {
  TokenObservation t;
  t.spec = &spec;
  t.ok = true;
  t.expiry = expiry;
  t.hasRefreshToken = refresh;
  t.fingerprint = refresh ? "0123456789abcdef" : "";
  return t;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(oauth_expiry)

BOOST_AUTO_TEST_CASE(google_token_json_both_expiry_forms) {
  auto a = probes::parseGoogleTokenJson(
      R"({"token":"ya29.a0Af","refresh_token":"1//0gSECRET","token_uri":"https://oauth2.googleapis.com/token",)"
      R"("client_id":"1234-abc.apps.googleusercontent.com","client_secret":"GOCSPX-x","scopes":["https://www.googleapis.com/auth/gmail.send"],)"
      R"("universe_domain":"googleapis.com","account":"","expiry":"2026-05-01T12:34:56.123456Z"})");
  BOOST_TEST_REQUIRE(a.ok, a.error);
  BOOST_TEST(*a.expiry == 1777638896);
  BOOST_TEST(a.refreshToken == "1//0gSECRET");
  BOOST_TEST(a.scopes.size() == 1u);
  auto b = probes::parseGoogleTokenJson(R"({"token":"ya29.x","expiry":"2026-05-01T12:34:56Z"})");
  BOOST_TEST_REQUIRE(b.ok);
  BOOST_TEST(*b.expiry == 1777638896);
  BOOST_TEST(b.refreshToken.empty());
  auto none = probes::parseGoogleTokenJson(R"({"refresh_token":"r"})");
  BOOST_TEST(none.ok);
  BOOST_TEST(!none.expiry.has_value());
  auto bad = probes::parseGoogleTokenJson(R"({"token":"ya29.SECRETVALUE","expiry":"tomorrow")");
  BOOST_TEST(!bad.ok);
  BOOST_TEST(bad.error.find("SECRETVALUE") == std::string::npos);
  auto badExpiry = probes::parseGoogleTokenJson(R"({"token":"t","expiry":"tomorrow"})");
  BOOST_TEST(!badExpiry.ok);
}

BOOST_AUTO_TEST_CASE(timestamps) {
  using probes::parseTimestamp;
  BOOST_TEST(parseTimestamp("2026-05-01T12:00:00Z").value_or(0) == kNow);
  BOOST_TEST(parseTimestamp("2026-05-01 12:00:00").value_or(0) == kNow);
  BOOST_TEST(parseTimestamp("2026-05-01T14:00:00+02:00").value_or(0) == kNow);
  BOOST_TEST(parseTimestamp("2026-05-01T07:00:00-0500").value_or(0) == kNow);
  BOOST_TEST(parseTimestamp("1777636800").value_or(0) == kNow);
  BOOST_TEST(parseTimestamp("1777636800.75").value_or(0) == kNow);
  BOOST_TEST(!parseTimestamp("").has_value());
  BOOST_TEST(!parseTimestamp("2026-05-01T12:00:00 garbage").has_value());
  BOOST_TEST(probes::formatUtc(kNow) == "2026-05-01 12:00:00 UTC");
}

BOOST_AUTO_TEST_CASE(jwt_exp) {
  auto j = probes::decodeJwt(jwt(R"({"sub":"x","exp":1777640400,"iat":1777636800})"));
  BOOST_TEST_REQUIRE(j.ok, j.error);
  BOOST_TEST(*j.exp == 1777640400.0);
  BOOST_TEST(j.alg == "RS256");
  auto frac = probes::decodeJwt(jwt(R"({"exp":1777640400.5})"));
  BOOST_TEST(*frac.exp == 1777640400.5);
  auto noExp = probes::decodeJwt(jwt(R"({"sub":"x"})"));
  BOOST_TEST(noExp.ok);
  BOOST_TEST(!noExp.exp.has_value());
  BOOST_TEST(!probes::decodeJwt("a.b").ok);
  BOOST_TEST(!probes::decodeJwt("a.b.c.d").ok);
  BOOST_TEST(!probes::decodeJwt("!!.??.x").ok);
  BOOST_TEST(!probes::decodeJwt(jwt(R"({"exp":"soon"})")).ok);
  std::string out;
  BOOST_TEST(probes::base64UrlDecode("aGk_", out));  // "hi?"
  BOOST_TEST(out == "hi?");
}

BOOST_AUTO_TEST_CASE(fingerprint_hides_the_token) {
  std::string fp = probes::tokenFingerprint("1//0gSECRET");
  BOOST_TEST(fp.size() == 16u);
  BOOST_TEST(fp.find("SECRET") == std::string::npos);
  BOOST_TEST(fp != probes::tokenFingerprint("1//0gSECRET2"));
  BOOST_TEST(probes::redactSecrets("x 1//0gSECRET y", {"1//0gSECRET", ""}) == "x [redacted] y");
}

BOOST_AUTO_TEST_CASE(two_tiers_for_jwt_and_sql) {
  auto p = params("{tokens: [{name: api, jwt_env: X}]}");
  auto eval = [&](std::int64_t left) {
    OAuthObservations obs;
    TokenObservation t;
    t.spec = &p.tokens[0];
    t.ok = true;
    t.expiry = kNow + left;
    obs.tokens.push_back(t);
    return evaluateOAuthExpiry(p, obs, kNow);
  };
  BOOST_TEST(eval(25 * 3600).results[0].status == Status::Ok);
  BOOST_TEST(eval(23 * 3600).results[0].status == Status::Warning);
  BOOST_TEST(eval(5 * 3600).results[0].status == Status::Critical);
  JobOutput expired = eval(-3600);
  BOOST_TEST(expired.results[0].status == Status::Critical);
  BOOST_TEST(expired.results[0].summary == "api: expired 1h ago (2026-05-01 11:00:00 UTC)");
  BOOST_TEST(expired.samples.size() == 1u);
  BOOST_TEST(expired.samples[0].name == "mxpulse_oauth_token_expiry_timestamp_seconds");
  BOOST_TEST(expired.samples[0].value == double(kNow - 3600));
  BOOST_TEST(expired.results.size() == 1u);  // no refresh-token result for a JWT
}

BOOST_AUTO_TEST_CASE(token_json_refresh_token_age) {
  auto p = params("{tokens: [{name: gmail, token_json: /x/token.json}]}");
  const auto& spec = p.tokens[0];
  auto eval = [&](std::optional<std::int64_t> firstSeen, bool tracked) {
    OAuthObservations obs;
    auto t = tokenJson(spec, kNow - 7200);
    t.stateRead = tracked;
    t.stateError = tracked ? "" : "no state DB (ad hoc check)";
    t.firstSeen = firstSeen;
    obs.tokens.push_back(t);
    return evaluateOAuthExpiry(p, obs, kNow);
  };
  // New token: first seen now, recorded through a state write.
  JobOutput fresh = eval(std::nullopt, true);
  BOOST_TEST(find(fresh, "oauth_token", "gmail")->status == Status::Ok);  // refreshable
  const CheckResult* rt = find(fresh, "oauth_refresh_token", "gmail");
  BOOST_TEST_REQUIRE(rt);
  BOOST_TEST(rt->status == Status::Ok);
  BOOST_TEST_REQUIRE(fresh.stateWrites.size() == 1u);
  BOOST_TEST(fresh.stateWrites[0].sql.find("oauth_expiry_refresh_tokens") != std::string::npos);
  BOOST_TEST(fresh.stateWrites[0].params[0] == "0123456789abcdef");
  BOOST_TEST(fresh.stateWrites[0].params[2] == std::to_string(kNow));
  // 6.5 days: under a day left -> warning; 7 days -> critical.
  BOOST_TEST(find(eval(kNow - 6 * 86400 - 43200, true), "oauth_refresh_token", "gmail")->status ==
             Status::Warning);
  JobOutput old = eval(kNow - 7 * 86400, true);
  const CheckResult* o = find(old, "oauth_refresh_token", "gmail");
  BOOST_TEST(o->status == Status::Critical);
  BOOST_TEST(o->summary.find("re-consent") != std::string::npos);
  BOOST_TEST(old.stateWrites[0].params[2] == std::to_string(kNow - 7 * 86400));  // kept
  // Not tracked (ad hoc): unknown for a Testing app, ok for a production app.
  JobOutput untracked = eval(std::nullopt, false);
  BOOST_TEST(find(untracked, "oauth_refresh_token", "gmail")->status == Status::Unknown);
  BOOST_TEST(untracked.stateWrites.empty());
  auto prod = params("{tokens: [{name: gmail, token_json: /x, testing_app: false}]}");
  OAuthObservations obs;
  obs.tokens.push_back(tokenJson(prod.tokens[0], kNow + 3600));
  BOOST_TEST(find(evaluateOAuthExpiry(prod, obs, kNow), "oauth_refresh_token", "gmail")->status ==
             Status::Ok);
}

BOOST_AUTO_TEST_CASE(live_probe_outcomes) {
  auto p = params("{tokens: [{name: gmail, token_json: /x, live_probe: true}]}");
  auto eval = [&](RefreshProbe::Outcome o, std::int64_t firstSeen) {
    OAuthObservations obs;
    auto t = tokenJson(p.tokens[0], kNow + 600);
    t.stateRead = true;
    t.firstSeen = firstSeen;
    RefreshProbe pr;
    pr.outcome = o;
    pr.httpStatus = o == RefreshProbe::Outcome::Accepted ? 200 : 400;
    pr.error = o == RefreshProbe::Outcome::InvalidGrant ? "invalid_grant" : "invalid_client";
    pr.description = "Token has been expired or revoked.";
    t.probe = pr;
    obs.tokens.push_back(t);
    return *find(evaluateOAuthExpiry(p, obs, kNow), "oauth_refresh_token", "gmail");
  };
  using O = RefreshProbe::Outcome;
  CheckResult ig = eval(O::InvalidGrant, kNow - 3600);
  BOOST_TEST(ig.status == Status::Critical);
  BOOST_TEST(ig.summary.find("invalid_grant (Token has been expired or revoked.)") !=
             std::string::npos);
  BOOST_TEST(eval(O::ClientError, kNow - 3600).status == Status::Critical);
  // Accepted past day 7: the app is not (or no longer) in Testing.
  BOOST_TEST(eval(O::Accepted, kNow - 9 * 86400).status == Status::Ok);
  // Probe failed: the age rule still decides when it knows something bad.
  BOOST_TEST(eval(O::Unreachable, kNow - 3600).status == Status::Unknown);
  BOOST_TEST(eval(O::Unreachable, kNow - 8 * 86400).status == Status::Critical);
}

BOOST_AUTO_TEST_CASE(read_errors_and_sql_rows) {
  auto p = params(
      "{tokens: [{name: gone, token_json: /nope}], sql: [{name: mw, sqlite_path: /x.db, query: "
      "'SELECT 1, 2'}]}");
  OAuthObservations obs;
  TokenObservation bad;
  bad.spec = &p.tokens[0];
  bad.error = "cannot read /nope";
  obs.tokens.push_back(bad);
  SqlObservation s;
  s.spec = &p.sql[0];
  s.ok = true;
  s.rows = {
      {"a", kNow + 3 * 3600, "x"}, {"b", kNow + 30 * 3600, "y"}, {"c", std::nullopt, "later"}};
  obs.sql.push_back(s);
  JobOutput out = evaluateOAuthExpiry(p, obs, kNow);
  BOOST_TEST(find(out, "oauth_token", "gone")->status == Status::Unknown);
  BOOST_TEST(find(out, "oauth_token", "mw/a")->status == Status::Critical);
  BOOST_TEST(find(out, "oauth_token", "mw/b")->status == Status::Ok);
  BOOST_TEST(find(out, "oauth_token", "mw/c")->status == Status::Unknown);
  int readErrors = 0;
  for (const auto& sm : out.samples) readErrors += sm.name == "mxpulse_oauth_token_read_error";
  BOOST_TEST(readErrors == 2);
}

BOOST_AUTO_TEST_CASE(params_errors) {
  auto bad = [](const std::string& yaml) {
    ConfigErrors errors("t");
    YAML::Node node = YAML::Load(yaml);
    MapReader r(node, "params", errors);
    auto p = parseOAuthExpiryParams(r, JobBuildEnv{});
    r.finish();
    return !p.has_value() || !errors.empty();
  };
  BOOST_TEST(bad("{}"));
  BOOST_TEST(bad("{tokens: [{name: a}]}"));
  BOOST_TEST(bad("{tokens: [{name: a, jwt_env: X, jwt_file: /y}]}"));
  BOOST_TEST(bad("{tokens: [{name: a, jwt_env: X, live_probe: true}]}"));
  BOOST_TEST(bad("{tokens: [{name: a, jwt_env: X}, {name: a, jwt_env: Y}]}"));
  BOOST_TEST(bad("{warn_before: 1h, crit_before: 2h, tokens: [{name: a, jwt_env: X}]}"));
  BOOST_TEST(bad("{sql: [{name: s, query: 'SELECT 1'}]}"));
  BOOST_TEST(bad("{tokens: [{name: a, token_json: /x, token_endpoint: 'ftp://x'}]}"));
  BOOST_TEST(
      !bad("{tokens: [{name: a, token_json: /x, live_probe: true, token_endpoint: "
           "'http://127.0.0.1:9/token'}]}"));
}

BOOST_AUTO_TEST_SUITE_END()
