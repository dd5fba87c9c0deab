// SPDX-License-Identifier: Apache-2.0
// dlq_depth against SQS emulators from the npm registry, started on
// 127.0.0.1 by the fixture: sqslite (query protocol) and fauxqs (JSON
// protocol). Queues are created and filled, then the job reads the depth.
// A fake SQS on loopback checks what is sent (SigV4 headers, session token)
// and how AWS error replies are reported.
#include <boost/test/unit_test.hpp>

#include <cstdlib>

#include "agent/config_errors.hpp"
#include "agent/yaml_reader.hpp"
#include "jobs/dlq_depth.hpp"
#include "probes/sigv4.hpp"
#include "tests/support/fake_http.hpp"
#include "tests/support/fixed_context.hpp"
#include "tests/support/sqs_emulators.hpp"
#include "tests/support/status_print.hpp"

using namespace mxpulse;
using test::SqsEmulator;

namespace {

constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

struct Env {
  Env() { setenv("MXPULSE_TEST_SQS_SECRET", kSecret, 1); }
};

JobOutput run(const std::string& queuesYaml, const std::string& extra = "") {
  static Env env;
  ConfigErrors errors("test");
  YAML::Node node = YAML::Load("{" + extra + "queues: [" + queuesYaml + "]}");
  MapReader r(node, "params", errors);
  auto job = jobs::dlqDepthKind().create(r, JobBuildEnv{});
  r.finish();
  std::string all;
  for (const auto& e : errors.errors()) all += e + "\n";
  BOOST_TEST_REQUIRE(static_cast<bool>(job), all);
  test::FixedContext ctx(1777636800, std::chrono::seconds(15));
  return job->run(ctx);
}

std::string queue(const std::string& name, const std::string& url, const std::string& endpoint,
                  const std::string& protocol) {
  return "{name: " + name + ", queue_url: '" + url + "', endpoint: '" + endpoint +
         "', protocol: " + protocol +
         ", access_key_id: AKIDTEST, secret_access_key: '${MXPULSE_TEST_SQS_SECRET}'}";
}

std::int64_t fact(const CheckResult& r, const char* key) {
  const Json* j = r.facts.find(key);
  return j && j->asInt() ? *j->asInt() : -1;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sqs)

BOOST_AUTO_TEST_CASE(sqslite_query_protocol) {
  test::skipUnlessSqsEmulators();
  SqsEmulator sqslite(SqsEmulator::Kind::Sqslite);
  std::string url = sqslite.createQueue("mail-dlq");
  BOOST_TEST(url == sqslite.endpoint() + "/queues/mail-dlq");

  JobOutput empty = run(queue("mail-dlq", url, sqslite.endpoint(), "query"));
  BOOST_TEST_REQUIRE(empty.results.size() == 1u);
  BOOST_TEST(empty.results[0].status == Status::Ok, empty.results[0].summary);
  BOOST_TEST(fact(empty.results[0], "messages") == 0);

  sqslite.sendMessage(url, "bounce 1");
  sqslite.sendMessage(url, "bounce 2");
  JobOutput two = run(queue("mail-dlq", url, sqslite.endpoint(), "query"));
  BOOST_TEST(two.results[0].status == Status::Warning);
  BOOST_TEST(two.results[0].summary == "mail-dlq: 2 messages");
  BOOST_TEST(fact(two.results[0], "visible") == 2);
  // sqslite does not report NotVisible/Delayed: no invented zeros.
  BOOST_TEST(two.results[0].facts.find("in_flight")->isNull());
  for (const auto& r : two.results) BOOST_TEST(r.facts.dump().find(kSecret) == std::string::npos);

  JobOutput missing =
      run(queue("gone", sqslite.endpoint() + "/queues/gone", sqslite.endpoint(), "query"));
  BOOST_TEST(missing.results[0].status == Status::Unknown);
  BOOST_TEST(missing.results[0].summary.find("AWS.SimpleQueueService.NonExistentQueue") !=
             std::string::npos);

  // sqslite speaks only the query protocol: a JSON request is refused (415).
  JobOutput json = run(queue("mail-dlq", url, sqslite.endpoint(), "json"));
  BOOST_TEST(json.results[0].status == Status::Unknown);
  BOOST_TEST(json.results[0].summary.find("HTTP 415") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(fauxqs_json_protocol) {
  test::skipUnlessSqsEmulators();
  SqsEmulator fauxqs(SqsEmulator::Kind::Fauxqs);
  std::string url = fauxqs.createQueue("ses-dlq");
  BOOST_TEST(url.find("/000000000000/ses-dlq") != std::string::npos);
  for (int i = 0; i < 3; ++i) fauxqs.sendMessage(url, "bounce " + std::to_string(i));
  fauxqs.sendMessage(url, "later", 600);
  fauxqs.receiveMessage(url);

  JobOutput out = run(queue("ses-dlq", url, fauxqs.endpoint(), "json"), "crit_messages: 4, ");
  BOOST_TEST_REQUIRE(out.results.size() == 1u);
  const CheckResult& r = out.results[0];
  BOOST_TEST(fact(r, "visible") == 2);
  BOOST_TEST(fact(r, "in_flight") == 1);
  BOOST_TEST(fact(r, "delayed") == 1);
  BOOST_TEST(fact(r, "messages") == 4);
  BOOST_TEST(r.status == Status::Critical);
  BOOST_TEST(r.summary == "ses-dlq: 4 messages (2 visible, 1 in flight, 1 delayed); critical at 4");
  int states = 0;
  for (const auto& s : out.samples) states += s.name == "mxpulse_dlq_sqs_messages";
  BOOST_TEST(states == 3);

  std::string other = url.substr(0, url.rfind('/')) + "/nope";
  JobOutput missing = run(queue("nope", other, fauxqs.endpoint(), "json"));
  BOOST_TEST(missing.results[0].status == Status::Unknown);
  BOOST_TEST(missing.results[0].summary.find("QueueDoesNotExist") != std::string::npos);
  BOOST_TEST(*missing.results[0].facts.find("error_code")->asString() == "QueueDoesNotExist");

  // fauxqs routes form posts to SNS: the query protocol fails visibly.
  JobOutput query = run(queue("ses-dlq", url, fauxqs.endpoint(), "query"));
  BOOST_TEST(query.results[0].status == Status::Unknown);
}

// What goes on the wire: a signature that verifies against the headers
// actually sent, the JSON target, and a signed session token.
BOOST_AUTO_TEST_CASE(signed_request_on_the_wire) {
  test::FakeHttpServer server([](const test::FakeHttpRequest&) {
    test::FakeHttpResponse r;
    r.contentType = "application/x-amz-json-1.0";
    r.body =
        R"({"Attributes":{"ApproximateNumberOfMessages":"0","ApproximateNumberOfMessagesNotVisible":"0","ApproximateNumberOfMessagesDelayed":"0"}})";
    return r;
  });
  setenv("MXPULSE_TEST_SQS_TOKEN", "FwoGZXIvYXdzEXAMPLETOKEN", 1);
  JobOutput out =
      run("{name: q, queue_url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q', "
          "endpoint: '" +
          server.url() +
          "', access_key_id: AKIDTEST, "
          "secret_access_key: '${MXPULSE_TEST_SQS_SECRET}', "
          "session_token: '${MXPULSE_TEST_SQS_TOKEN}'}");
  BOOST_TEST(out.results[0].status == Status::Ok, out.results[0].summary);
  auto reqs = server.requests();
  BOOST_TEST_REQUIRE(reqs.size() == 1u);
  const auto& req = reqs[0];
  BOOST_TEST(req.method == "POST");
  BOOST_TEST(req.target == "/");
  BOOST_TEST(req.header("X-Amz-Target") == "AmazonSQS.GetQueueAttributes");
  BOOST_TEST(req.header("Content-Type") == "application/x-amz-json-1.0");
  BOOST_TEST(req.header("X-Amz-Security-Token") == "FwoGZXIvYXdzEXAMPLETOKEN");
  std::string auth = req.header("Authorization");
  BOOST_TEST(auth.find("Credential=AKIDTEST/20260501/eu-west-1/sqs/aws4_request") !=
             std::string::npos);
  BOOST_TEST(auth.find("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;"
                       "x-amz-target") != std::string::npos);
  BOOST_TEST(auth.find(kSecret) == std::string::npos);
  // Re-sign what arrived: the same signature means Host and the other
  // signed headers went out exactly as signed.
  probes::SigV4Request again;
  again.body = req.body;
  for (const char* h :
       {"Content-Type", "Host", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Target"})
    again.headers.emplace_back(h, req.header(h));
  auto s = probes::signV4(again, {"AKIDTEST", kSecret, "", ""},
                          probes::SigV4Params{"eu-west-1", "sqs", 0, true, true});
  BOOST_TEST(s.authorization == auth);
}

BOOST_AUTO_TEST_CASE(aws_error_replies) {
  test::FakeHttpServer server([](const test::FakeHttpRequest& req) {
    test::FakeHttpResponse r;
    r.status = 400;
    if (req.header("Content-Type").find("json") != std::string::npos) {
      r.contentType = "application/x-amz-json-1.0";
      r.headers = {{"x-amzn-query-error", "InvalidClientTokenId;Sender"}};
      r.body =
          R"({"__type":"com.amazon.coral.service#InvalidClientTokenId","message":"The security token included in the request is invalid."})";
    } else {
      r.body =
          "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>"
          "<Message>The request signature we calculated does not match</Message></Error>"
          "<RequestId>1</RequestId></ErrorResponse>";
    }
    return r;
  });
  std::string base = "{name: q, queue_url: 'https://sqs.us-east-1.amazonaws.com/1/q', endpoint: '" +
                     server.url() +
                     "', access_key_id: AKIDTEST, secret_access_key: "
                     "'${MXPULSE_TEST_SQS_SECRET}', protocol: ";
  JobOutput json = run(base + "json}");
  BOOST_TEST(json.results[0].status == Status::Unknown);
  BOOST_TEST(json.results[0].summary ==
             "q: cannot read the queue: HTTP 400 InvalidClientTokenId: The security token "
             "included in the request is invalid.");
  JobOutput query = run(base + "query}");
  BOOST_TEST(query.results[0].summary.find("HTTP 400 SignatureDoesNotMatch") != std::string::npos);
  // No credentials anywhere: unknown, and says where it looked.
  setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials", 1);
  unsetenv("AWS_ACCESS_KEY_ID");
  JobOutput none =
      run("{name: q, queue_url: 'https://sqs.us-east-1.amazonaws.com/1/q', endpoint: '" +
          server.url() + "'}");
  BOOST_TEST(none.results[0].status == Status::Unknown);
  BOOST_TEST(none.results[0].summary.find("no AWS credentials") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(adhoc_check_dlq) {
  test::skipUnlessSqsEmulators();
  SqsEmulator fauxqs(SqsEmulator::Kind::Fauxqs);
  std::string url = fauxqs.createQueue("adhoc-dlq");
  fauxqs.sendMessage(url, "x");
  auto r = test::runProcess(
      {MXPULSE_BINARY, "check", "dlq", url, "--endpoint", fauxqs.endpoint(), "--json"},
      {{"AWS_ACCESS_KEY_ID", "AKIDTEST"}, {"AWS_SECRET_ACCESS_KEY", kSecret}});
  BOOST_TEST(r.exitCode == 1, r.out + r.err);
  BOOST_TEST(r.out.find("\"target\":\"adhoc-dlq\"") != std::string::npos);
  BOOST_TEST(r.out.find("adhoc-dlq: 1 message") != std::string::npos);
  BOOST_TEST((r.out + r.err).find(kSecret) == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
