// SPDX-License-Identifier: Apache-2.0
// oauth_expiry against token files on disk and a fake OAuth token endpoint
// on 127.0.0.1 (RFC 6749 §5.2 replies as Google sends them). No token or
// client secret may appear in a result, even when the endpoint echoes one.
#include <boost/test/unit_test.hpp>

#include <cstdlib>

#include "agent/config_errors.hpp"
#include "agent/yaml_reader.hpp"
#include "jobs/oauth_expiry.hpp"
#include "probes/token_sources.hpp"
#include "tests/support/fake_http.hpp"
#include "tests/support/fixed_context.hpp"
#include "tests/support/status_print.hpp"
#include "tests/support/test_support.hpp"

using namespace mxpulse;

namespace {

constexpr std::int64_t kNow = 1777636800;  // 2026-05-01 12:00:00 UTC
const std::string kRefresh = "1//0gREFRESH-abcdefghijklmnop";
const std::string kClientSecret = "GOCSPX-client-secret-xyz";
const std::string kAccess = "ya29.a0AfACCESS-token-value";

std::string tokenJson(const std::string& expiry) {
  return R"({"token": ")" + kAccess + R"(", "refresh_token": ")" + kRefresh +
         R"(", "token_uri": "https://oauth2.googleapis.com/token", "client_id": "1234-abc.apps.googleusercontent.com", "client_secret": ")" +
         kClientSecret +
         R"(", "scopes": ["https://www.googleapis.com/auth/gmail.send"], "universe_domain": "googleapis.com", "account": "", "expiry": ")" +
         expiry + R"("})";
}

JobOutput run(const std::string& yaml) {
  ConfigErrors errors("test");
  YAML::Node node = YAML::Load(yaml);
  MapReader r(node, "params", errors);
  auto job = jobs::oauthExpiryKind().create(r, JobBuildEnv{});
  r.finish();
  std::string all;
  for (const auto& e : errors.errors()) all += e + "\n";
  BOOST_TEST_REQUIRE(static_cast<bool>(job), all);
  test::FixedContext ctx(kNow, std::chrono::seconds(10));
  return job->run(ctx);
}

const CheckResult* find(const JobOutput& out, const std::string& check, const std::string& target) {
  for (const auto& r : out.results)
    if (r.check == check && r.target == target) return &r;
  return nullptr;
}

void noSecrets(const JobOutput& out) {
  for (const auto& r : out.results)
    for (const std::string& s : {kRefresh, kClientSecret, kAccess}) {
      BOOST_TEST(r.summary.find(s) == std::string::npos, r.summary);
      BOOST_TEST(r.facts.dump().find(s) == std::string::npos, r.facts.dump());
    }
}

/// A token endpoint answering with `status` and `body`.
test::FakeHttpServer endpoint(int status, std::string body) {
  return test::FakeHttpServer([status, body](const test::FakeHttpRequest&) {
    test::FakeHttpResponse r;
    r.status = status;
    r.contentType = "application/json";
    r.body = body;
    return r;
  });
}

}  // namespace

BOOST_AUTO_TEST_SUITE(oauth)

BOOST_AUTO_TEST_CASE(token_files_and_jwts) {
  test::TempDir dir;
  test::writeFile(dir.file("micro.json"), tokenJson("2026-05-01T12:34:56.123456Z"));
  test::writeFile(dir.file("plain.json"), tokenJson("2026-05-01T12:34:56Z"));
  test::writeFile(dir.file("access-only.json"),
                  R"({"token": "ya29.x", "expiry": "2026-05-01T15:00:00Z"})");
  test::writeFile(dir.file("broken.json"), "{\"token\": ");
  std::string header = probes::base64UrlEncode(R"({"alg":"RS256","typ":"JWT"})");
  test::writeFile(
      dir.file("api.jwt"),
      header + "." + probes::base64UrlEncode(R"({"exp":1777719600})") + ".c2ln\n");  // +23h
  setenv("MXPULSE_TEST_JWT",
         (header + "." + probes::base64UrlEncode(R"({"exp":1777730400.5})") + ".c2ln").c_str(), 1);
  JobOutput out = run("{tokens: [{name: micro, token_json: '" + dir.file("micro.json") +
                      "'}, {name: plain, token_json: '" + dir.file("plain.json") +
                      "', testing_app: false}, {name: access-only, token_json: '" +
                      dir.file("access-only.json") + "'}, {name: broken, token_json: '" +
                      dir.file("broken.json") + "'}, {name: gone, token_json: '" +
                      dir.file("gone.json") + "'}, {name: api, jwt_file: '" + dir.file("api.jwt") +
                      "'}, {name: env, jwt_env: MXPULSE_TEST_JWT}, {name: unset, jwt_env: "
                      "MXPULSE_TEST_UNSET_JWT}]}");
  // Refreshable access tokens are not judged by their hourly expiry.
  BOOST_TEST(find(out, "oauth_token", "micro")->status == Status::Ok);
  BOOST_TEST(*find(out, "oauth_token", "micro")->facts.find("expiry")->asInt() == 1777638896);
  BOOST_TEST(*find(out, "oauth_token", "plain")->facts.find("expiry")->asInt() == 1777638896);
  // Without a state DB (ad hoc) a Testing app's refresh-token age is unknown...
  BOOST_TEST(find(out, "oauth_refresh_token", "micro")->status == Status::Unknown);
  // ...while a production app's is not judged.
  BOOST_TEST(find(out, "oauth_refresh_token", "plain")->status == Status::Ok);
  // Access token without refresh token: 3 h left -> critical.
  BOOST_TEST(find(out, "oauth_token", "access-only")->status == Status::Critical);
  BOOST_TEST(find(out, "oauth_token", "broken")->status == Status::Unknown);
  BOOST_TEST(find(out, "oauth_token", "gone")->status == Status::Unknown);
  BOOST_TEST(find(out, "oauth_token", "api")->status == Status::Warning);  // 23 h
  BOOST_TEST(find(out, "oauth_token", "env")->status == Status::Ok);       // 26 h
  BOOST_TEST(find(out, "oauth_token", "unset")->status == Status::Unknown);
  std::string fp =
      *find(out, "oauth_refresh_token", "micro")->facts.find("fingerprint")->asString();
  BOOST_TEST(fp.size() == 16u);
  noSecrets(out);
}

BOOST_AUTO_TEST_CASE(live_probe_against_a_fake_token_endpoint) {
  test::TempDir dir;
  test::writeFile(dir.file("token.json"), tokenJson("2026-05-01T12:34:56Z"));
  auto yaml = [&](const std::string& url) {
    return "{tokens: [{name: gmail, token_json: '" + dir.file("token.json") +
           "', live_probe: true, token_endpoint: '" + url + "'}]}";
  };
  {
    auto server = endpoint(
        200,
        R"({"access_token":"ya29.NEWTOKEN","expires_in":"3599","token_type":"Bearer","scope":"https://www.googleapis.com/auth/gmail.send"})");
    JobOutput out = run(yaml(server.url("/token")));
    const CheckResult* r = find(out, "oauth_refresh_token", "gmail");
    BOOST_TEST(r->status == Status::Ok, r->summary);
    BOOST_TEST(r->summary.find("accepted by the token endpoint") != std::string::npos);
    BOOST_TEST(out.results[0].facts.dump().find("NEWTOKEN") == std::string::npos);
    auto reqs = server.requests();
    BOOST_TEST_REQUIRE(reqs.size() == 1u);
    BOOST_TEST(reqs[0].method == "POST");
    BOOST_TEST(reqs[0].target == "/token");
    BOOST_TEST(reqs[0].header("Content-Type") == "application/x-www-form-urlencoded");
    BOOST_TEST(reqs[0].body.find("grant_type=refresh_token&") == 0u);
    BOOST_TEST(reqs[0].body.find("client_id=1234-abc.apps.googleusercontent.com") !=
               std::string::npos);
    BOOST_TEST(reqs[0].body.find("refresh_token=1%2F%2F0gREFRESH-abcdefghijklmnop") !=
               std::string::npos);
    noSecrets(out);
  }
  {
    auto server = endpoint(
        400,
        R"({"error":"invalid_grant","error_description":"Token has been expired or revoked."})");
    JobOutput out = run(yaml(server.url("/token")));
    const CheckResult* r = find(out, "oauth_refresh_token", "gmail");
    BOOST_TEST(r->status == Status::Critical);
    BOOST_TEST(r->summary.find("invalid_grant (Token has been expired or revoked.)") !=
               std::string::npos);
    noSecrets(out);
  }
  {
    auto server = endpoint(
        401, R"({"error":"invalid_client","error_description":"The OAuth client was not found."})");
    BOOST_TEST(find(run(yaml(server.url())), "oauth_refresh_token", "gmail")->status ==
               Status::Critical);
  }
  {
    // A hostile or buggy endpoint echoing the secrets back: redacted.
    auto server =
        endpoint(400, R"({"error":"invalid_request","error_description":"bad refresh_token )" +
                          kRefresh + " for secret " + kClientSecret + R"("})");
    JobOutput out = run(yaml(server.url()));
    BOOST_TEST(find(out, "oauth_refresh_token", "gmail")->summary.find("[redacted]") !=
               std::string::npos);
    noSecrets(out);
  }
  {
    auto server = endpoint(503, "<html>down</html>");
    BOOST_TEST(find(run(yaml(server.url())), "oauth_refresh_token", "gmail")->status ==
               Status::Unknown);
  }
  {
    JobOutput out = run(yaml("http://127.0.0.1:" + std::to_string(test::freePort()) + "/token"));
    const CheckResult* r = find(out, "oauth_refresh_token", "gmail");
    BOOST_TEST(r->status == Status::Unknown);
    BOOST_TEST(r->summary.find("live probe failed: connection refused") != std::string::npos);
  }
}

// (name, expires_at) rows from a real SQLite file, in the forms apps store.
BOOST_AUTO_TEST_CASE(sql_rows_from_sqlite) {
  test::TempDir dir;
  auto r = test::runProcess({"sqlite3", dir.file("app.db"),
                             "CREATE TABLE oauth_tokens (provider TEXT, expires_at);"
                             "INSERT INTO oauth_tokens VALUES ('google', '2026-05-01T15:00:00Z'),"
                             "('microsoft', 1777726800), ('zoho', '2026-05-01 11:00:00'),"
                             "('broken', 'soon');"});
  test::skipUnless(r.exitCode == 0, "sqlite3 CLI not installed");
  JobOutput out = run("{sql: [{name: app, sqlite_path: '" + dir.file("app.db") +
                      "', query: 'SELECT provider, expires_at FROM oauth_tokens'}]}");
  BOOST_TEST(find(out, "oauth_token", "app/google")->status == Status::Critical);  // 3 h
  BOOST_TEST(find(out, "oauth_token", "app/microsoft")->status == Status::Ok);     // 25 h
  BOOST_TEST(find(out, "oauth_token", "app/zoho")->status == Status::Critical);    // expired
  BOOST_TEST(find(out, "oauth_token", "app/broken")->status == Status::Unknown);
  JobOutput bad = run("{sql: [{name: app, sqlite_path: '" + dir.file("app.db") +
                      "', query: 'DELETE FROM oauth_tokens'}]}");
  BOOST_TEST(find(bad, "oauth_token", "app")->status == Status::Unknown);
  BOOST_TEST(find(bad, "oauth_token", "app")->summary.find("read-only") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(adhoc_check_oauth) {
  test::TempDir dir;
  test::writeFile(dir.file("token.json"), tokenJson("2026-05-01T12:34:56Z"));
  auto server = endpoint(
      400, R"({"error":"invalid_grant","error_description":"Token has been expired or revoked."})");
  auto r =
      test::runProcess({MXPULSE_BINARY, "check", "oauth", "--token-json", dir.file("token.json"),
                        "--live-probe", "--token-endpoint", server.url("/token"), "--json"});
  BOOST_TEST(r.exitCode == 2, r.out + r.err);
  BOOST_TEST(r.out.find("\"check\":\"oauth_refresh_token\"") != std::string::npos);
  BOOST_TEST(r.out.find("invalid_grant") != std::string::npos);
  for (const std::string& s : {kRefresh, kClientSecret, kAccess})
    BOOST_TEST((r.out + r.err).find(s) == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
