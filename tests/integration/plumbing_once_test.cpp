// SPDX-License-Identifier: Apache-2.0
// pmta, oauth_expiry and dlq_depth through the real binary (`mxpulse once`)
// with a state DB and a textfile: the refresh token's first-seen time and
// the DLQ depth survive between runs (state writes), growth is critical,
// and no secret (PowerMTA password, refresh token, client secret, access
// token, AWS secret key) reaches stdout, stderr, the state DB or the
// textfile.
#include <sqlite3.h>
#include <sys/stat.h>
#include <boost/test/unit_test.hpp>

#include "probes/sqlite_query.hpp"
#include "tests/support/fake_http.hpp"
#include "tests/support/sqs_emulators.hpp"
#include "tests/support/test_support.hpp"

using namespace mxpulse;

namespace {

const std::string kPmtaPass = "Pmta-Http-Pass-7731";
const std::string kRefresh = "1//0gREFRESH-e2e-token-4242";
const std::string kClientSecret = "GOCSPX-e2e-client-secret";
const std::string kAccess = "ya29.e2e-ACCESS-token-99";
const std::string kAwsSecret = "AwsSecretKeyE2E/abcdefghijklmnopqrstuv";

void sql(const std::string& db, const std::string& statements) {
  sqlite3* h = nullptr;
  BOOST_TEST_REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(h, statements.c_str(), nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(h);
  BOOST_TEST_REQUIRE(rc == SQLITE_OK, msg);
}

std::string fixture(const std::string& name) {
  return test::readFile(test::sourceDir() + "/tests/data/pmta/" + name);
}

std::string one(const std::string& db, const std::string& query) {
  auto rows = probes::sqliteQueryReadOnly(db, query, Deadline::in(std::chrono::seconds(5)));
  BOOST_TEST_REQUIRE(rows.ok, rows.error);
  BOOST_TEST_REQUIRE(rows.rows.size() == 1u, query);
  return rows.rows[0][0].value_or("NULL");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(plumbing_once)

BOOST_AUTO_TEST_CASE(state_between_runs_and_no_secret_anywhere) {
  test::TempDir dir;
  mkdir(dir.file("textfile").c_str(), 0755);
  test::writeFile(dir.file("pmta_password"), kPmtaPass + "\n");
  test::writeFile(dir.file("aws_secret"), kAwsSecret + "\n");
  test::writeFile(
      dir.file("token.json"),
      R"({"token": ")" + kAccess + R"(", "refresh_token": ")" + kRefresh +
          R"(", "client_id": "1234-abc.apps.googleusercontent.com", "client_secret": ")" +
          kClientSecret + R"(", "expiry": "2026-05-01T12:34:56Z"})");
  sql(dir.file("app.db"),
      "CREATE TABLE failed (id INTEGER PRIMARY KEY, created_at TEXT);"
      "INSERT INTO failed (created_at) VALUES (datetime('now')), (datetime('now'));");

  test::FakeHttpServer pmta([](const test::FakeHttpRequest& req) {
    test::FakeHttpResponse r;
    // monitor:Pmta-Http-Pass-7731
    if (req.header("Authorization") != "Basic bW9uaXRvcjpQbXRhLUh0dHAtUGFzcy03NzMx") {
      r.status = 401;
      return r;
    }
    std::string path = req.target.substr(0, req.target.find('?'));
    r.body = fixture(path == "/status"    ? "status.xml"
                     : path == "/queues"  ? "queues.xml"
                     : path == "/domains" ? "domains.xml"
                                          : "vmtas.xml");
    return r;
  });
  test::FakeHttpServer tokens([](const test::FakeHttpRequest&) {
    test::FakeHttpResponse r;
    r.status = 400;
    r.contentType = "application/json";
    r.body =
        R"({"error":"invalid_grant","error_description":"Token has been expired or revoked."})";
    return r;
  });

  std::string sqsQueue, sqsUrl;
  std::unique_ptr<test::SqsEmulator> fauxqs;
  bool haveSqs = test::findProgram("node") != "" &&
                 test::fileExists(test::sourceDir() + "/tests/node/node_modules/fauxqs");
  if (haveSqs) {
    fauxqs = std::make_unique<test::SqsEmulator>(test::SqsEmulator::Kind::Fauxqs);
    sqsUrl = fauxqs->createQueue("e2e-dlq");
    fauxqs->sendMessage(sqsUrl, "m1");
    sqsQueue = "        - {name: e2e-sqs, queue_url: '" + sqsUrl + "', endpoint: '" +
               fauxqs->endpoint() + "', access_key_id: AKIDE2E, secret_access_key_file: '" +
               dir.file("aws_secret") + "'}\n";
  } else {
    BOOST_TEST_MESSAGE("fauxqs not installed: the SQS queue is left out of this test");
  }

  std::string config = dir.file("agent.yaml");
  test::writeFile(config,
                  "agent: {state_db: state.db, textfile: textfile/mxpulse.prom}\n"
                  "jobs:\n"
                  "  - name: pmta\n    kind: pmta\n    every: 1m\n    params:\n"
                  "      url: '" +
                      pmta.url() +
                      "'\n      user: monitor\n"
                      "      password_file: '" +
                      dir.file("pmta_password") +
                      "'\n"
                      "      cli_fallback: false\n      oldest_warn: 0s\n      oldest_crit: 0s\n"
                      "  - name: oauth\n    kind: oauth_expiry\n    every: 15m\n    params:\n"
                      "      tokens:\n        - name: gmail\n          token_json: '" +
                      dir.file("token.json") +
                      "'\n          live_probe: true\n"
                      "          token_endpoint: '" +
                      tokens.url("/token") +
                      "'\n"
                      "  - name: dlq\n    kind: dlq_depth\n    every: 5m\n    params:\n"
                      "      crit_age: 0s\n      queues:\n"
                      "        - {name: failed, sqlite_path: '" +
                      dir.file("app.db") +
                      "', query: 'SELECT COUNT(*), MIN(created_at) FROM failed'}\n" + sqsQueue);
  auto once = [&] {
    return test::runProcess({MXPULSE_BINARY, "--config", config, "once", "--json"});
  };

  auto first = once();
  BOOST_TEST(first.exitCode == 2, first.out + first.err);  // invalid_grant is critical
  BOOST_TEST(first.out.find("\"check\":\"pmta_queue\",\"target\":\"total\",\"status\":\"ok\"") !=
                 std::string::npos,
             first.out);
  BOOST_TEST(first.out.find("\"check\":\"oauth_refresh_token\",\"target\":\"gmail\",\"status\":"
                            "\"critical\"") != std::string::npos,
             first.out);
  BOOST_TEST(first.out.find("\"target\":\"failed\",\"status\":\"warning\"") != std::string::npos,
             first.out);

  std::string db = dir.file("state.db");
  std::string firstSeen = one(db, "SELECT first_seen FROM oauth_expiry_refresh_tokens");
  std::string fingerprint = one(db, "SELECT fingerprint FROM oauth_expiry_refresh_tokens");
  BOOST_TEST(fingerprint.size() == 16u);
  BOOST_TEST(one(db, "SELECT messages FROM dlq_depth_last WHERE name = 'failed'") == "2");

  sql(dir.file("app.db"),
      "INSERT INTO failed (created_at) VALUES (datetime('now')), (datetime('now'));");
  if (fauxqs) fauxqs->sendMessage(sqsUrl, "m2");
  sleep(1);  // a later run time, so first_seen must come from the state DB
  auto second = once();
  BOOST_TEST(second.out.find("failed: 4 messages") != std::string::npos, second.out);
  BOOST_TEST(second.out.find("grew by 2") != std::string::npos, second.out);
  BOOST_TEST(second.out.find("\"target\":\"failed\",\"status\":\"critical\"") != std::string::npos);
  if (haveSqs) {
    BOOST_TEST(second.out.find("e2e-sqs: 2 messages; grew by 1") != std::string::npos, second.out);
  }
  BOOST_TEST(one(db, "SELECT first_seen FROM oauth_expiry_refresh_tokens") == firstSeen);
  BOOST_TEST(one(db,
                 "SELECT json_extract(facts, '$.first_seen') FROM latest WHERE check_name = "
                 "'oauth_refresh_token'") == firstSeen);
  BOOST_TEST(one(db, "SELECT messages FROM dlq_depth_last WHERE name = 'failed'") == "4");

  std::string prom = test::readFile(dir.file("textfile/mxpulse.prom"));
  BOOST_TEST(prom.find("mxpulse_pmta_queued_recipients{job=\"pmta\"} 15423") != std::string::npos,
             prom);
  BOOST_TEST(
      prom.find("mxpulse_oauth_token_expiry_timestamp_seconds{job=\"oauth\",name=\"gmail\"}") !=
      std::string::npos);
  BOOST_TEST(prom.find("mxpulse_dlq_messages{job=\"dlq\",queue=\"failed\"} 4") !=
             std::string::npos);
  std::string promtool = test::findProgram("promtool");
  if (!promtool.empty()) {
    auto lint = test::runProcess(
        {"/bin/sh", "-c", promtool + " check metrics < " + dir.file("textfile/mxpulse.prom")});
    BOOST_TEST(lint.exitCode == 0, lint.out + lint.err);
  }

  auto status = test::runProcess({MXPULSE_BINARY, "--config", config, "status"});
  std::string everything = first.out + first.err + second.out + second.err + status.out +
                           status.err + prom + test::readFile(db) + test::readFile(db + "-wal");
  for (const std::string& secret : {kPmtaPass, kRefresh, kClientSecret, kAccess, kAwsSecret})
    BOOST_TEST(everything.find(secret) == std::string::npos, "secret leaked: " << secret);
}

BOOST_AUTO_TEST_SUITE_END()
