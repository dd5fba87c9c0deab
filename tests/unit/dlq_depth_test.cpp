// SPDX-License-Identifier: Apache-2.0
// dlq_depth: params, credential resolution order and files, SQS endpoint
// and region derivation, and the pure evaluator (warning on any message,
// critical on growth, size and age; unknown when unreadable).
#include <boost/test/unit_test.hpp>

#include <cstdlib>

#include "agent/config_errors.hpp"
#include "agent/yaml_reader.hpp"
#include "jobs/dlq_depth.hpp"
#include "probes/sqs_client.hpp"
#include "tests/support/status_print.hpp"
#include "tests/support/test_support.hpp"

using namespace mxpulse;
using namespace mxpulse::jobs;

namespace {

constexpr std::int64_t kNow = 1777636800;

std::optional<DlqDepthParams> tryParse(const std::string& yaml, std::string& errorsOut) {
  ConfigErrors errors("t");
  YAML::Node node = YAML::Load(yaml);
  MapReader r(node, "params", errors);
  auto p = parseDlqDepthParams(r, JobBuildEnv{});
  r.finish();
  for (const auto& e : errors.errors()) errorsOut += e + "\n";
  return errors.empty() ? p : std::nullopt;
}

DlqDepthParams params(const std::string& yaml) {
  std::string errors;
  auto p = tryParse(yaml, errors);
  BOOST_TEST_REQUIRE(p.has_value(), errors);
  return *p;
}

bool invalid(const std::string& yaml) {
  std::string errors;
  return !tryParse(yaml, errors).has_value();
}

/// Sets environment variables for the scope of a test, restoring them after.
class EnvGuard {
 public:
  void set(const char* name, const char* value) {
    const char* old = std::getenv(name);
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~EnvGuard() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second)
        setenv(it->first.c_str(), it->second->c_str(), 1);
      else
        unsetenv(it->first.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

const char* kSqs =
    "{queues: [{name: mail-dlq, queue_url: "
    "'https://sqs.eu-west-1.amazonaws.com/123456789012/mail-dlq'}]}";

}  // namespace

BOOST_AUTO_TEST_SUITE(dlq_depth)

BOOST_AUTO_TEST_CASE(endpoint_and_region) {
  probes::SqsQueueRef q{"https://sqs.eu-west-1.amazonaws.com/123456789012/mail-dlq", "", "",
                        probes::SqsProtocol::Json};
  BOOST_TEST(probes::sqsEndpoint(q) == "https://sqs.eu-west-1.amazonaws.com");
  BOOST_TEST(probes::sqsRegion(q) == "eu-west-1");
  q.queueUrl = "https://us-west-2.queue.amazonaws.com/1/x";
  BOOST_TEST(probes::sqsRegion(q) == "us-west-2");
  q.queueUrl = "http://localhost:4576/queues/dlq";
  BOOST_TEST(probes::sqsEndpoint(q) == "http://localhost:4576");
  BOOST_TEST(probes::sqsRegion(q) == "us-east-1");
  q.queueUrl = "http://sqs.ap-south-1.localhost:4566/000000000000/dlq";
  BOOST_TEST(probes::sqsRegion(q) == "ap-south-1");
  q.endpoint = "http://127.0.0.1:9324/";
  q.region = "eu-central-1";
  BOOST_TEST(probes::sqsEndpoint(q) == "http://127.0.0.1:9324");
  BOOST_TEST(probes::sqsRegion(q) == "eu-central-1");
}

BOOST_AUTO_TEST_CASE(credentials_file_profiles) {
  const std::string ini =
      "# comment\n[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s1\n\n"
      "[profile mx]\naws_access_key_id=AKIDMX\naws_secret_access_key=s2\naws_session_token = "
      "tok\n[broken]\naws_access_key_id=only\n";
  probes::AwsCredentials c;
  std::string error;
  BOOST_TEST(probes::parseAwsCredentialsFile(ini, "default", c, error));
  BOOST_TEST(c.accessKeyId == "AKIDDEFAULT");
  BOOST_TEST(c.sessionToken.empty());
  probes::AwsCredentials m;
  BOOST_TEST(probes::parseAwsCredentialsFile(ini, "mx", m, error));
  BOOST_TEST(m.sessionToken == "tok");
  probes::AwsCredentials b;
  BOOST_TEST(!probes::parseAwsCredentialsFile(ini, "broken", b, error));
  BOOST_TEST(!probes::parseAwsCredentialsFile(ini, "absent", b, error));
  BOOST_TEST(error.find("[absent] not found") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(credential_chain_order) {
  test::TempDir dir;
  test::writeFile(dir.file("creds"),
                  "[default]\naws_access_key_id=AKIDFILE\naws_secret_access_key=fs\n"
                  "[other]\naws_access_key_id=AKIDOTHER\naws_secret_access_key=os\n");
  EnvGuard env;
  env.set("AWS_ACCESS_KEY_ID", "AKIDENV");
  env.set("AWS_SECRET_ACCESS_KEY", "es");
  env.set("AWS_SESSION_TOKEN", "etok");
  env.set("AWS_SHARED_CREDENTIALS_FILE", dir.file("creds").c_str());
  env.set("AWS_PROFILE", nullptr);
  std::string error;
  probes::AwsCredentialSettings s;
  // 1. configured keys
  s.accessKeyId = "AKIDCONF";
  s.secretAccessKey = "cs";
  BOOST_TEST(probes::resolveAwsCredentials(s, error).accessKeyId == "AKIDCONF");
  // 2. the environment (with its session token)
  s = {};
  auto e = probes::resolveAwsCredentials(s, error);
  BOOST_TEST(e.accessKeyId == "AKIDENV");
  BOOST_TEST(e.sessionToken == "etok");
  BOOST_TEST(e.source == "environment");
  // 3. a configured profile wins over the environment's keys
  s.profile = "other";
  BOOST_TEST(probes::resolveAwsCredentials(s, error).accessKeyId == "AKIDOTHER");
  // 4. no environment keys: the file's default profile
  env.set("AWS_ACCESS_KEY_ID", nullptr);
  s = {};
  BOOST_TEST(probes::resolveAwsCredentials(s, error).accessKeyId == "AKIDFILE");
  // 5. nothing at all
  env.set("AWS_SHARED_CREDENTIALS_FILE", dir.file("missing").c_str());
  auto none = probes::resolveAwsCredentials(s, error);
  BOOST_TEST(!none.valid());
  BOOST_TEST(error.find("no AWS credentials") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(params_checks) {
  auto p = params(kSqs);
  BOOST_TEST(p.queues.size() == 1u);
  BOOST_TEST(p.queues[0].sqs);
  BOOST_TEST(p.queues[0].sourceId.size() == 16u);
  BOOST_TEST(p.warnMessages == 1);
  BOOST_TEST(p.critGrowth == 1);
  BOOST_TEST(invalid("{}"));
  BOOST_TEST(invalid("{queues: [{name: a}]}"));
  BOOST_TEST(invalid("{queues: [{name: a, queue_url: 'https://x/1/a', query: 'SELECT 1'}]}"));
  BOOST_TEST(invalid("{queues: [{name: a, queue_url: 'https://x/1/a', protocol: soap}]}"));
  BOOST_TEST(invalid("{queues: [{name: a, queue_url: 'https://x/1/a', access_key_id: AKID}]}"));
  BOOST_TEST(invalid("{queues: [{name: a, query: 'SELECT 1'}]}"));  // no sqlite_path/mysql
  BOOST_TEST(
      invalid("{queues: [{name: a, queue_url: 'https://x/1/a'}, {name: a, queue_url: "
              "'https://x/1/b'}]}"));
  BOOST_TEST(
      !invalid("{queues: [{name: a, sqlite_path: /x.db, query: 'SELECT COUNT(*) FROM t'}]}"));
}

BOOST_AUTO_TEST_CASE(evaluate_tiers) {
  auto p = params(
      "{crit_messages: 100, crit_age: 1h, queues: [{name: sqs, queue_url: "
      "'https://sqs.eu-west-1.amazonaws.com/1/q'}, {name: sql, sqlite_path: /x.db, "
      "query: 'SELECT 1'}]}");
  auto sqs = [&](std::int64_t visible, std::optional<std::int64_t> previous) {
    DlqObservation o;
    o.spec = &p.queues[0];
    o.ok = true;
    o.visible = visible;
    o.inFlight = 0;
    o.delayed = 0;
    o.depth = visible;
    o.previous = previous;
    o.previousAt = kNow - 300;
    return evaluateDlqDepth(p, {o}, kNow);
  };
  BOOST_TEST(sqs(0, std::nullopt).results[0].status == Status::Ok);
  BOOST_TEST(sqs(1, std::nullopt).results[0].status == Status::Warning);  // any message
  BOOST_TEST(sqs(3, 3).results[0].status == Status::Warning);             // steady
  JobOutput grew = sqs(5, 3);
  BOOST_TEST(grew.results[0].status == Status::Critical);
  BOOST_TEST(grew.results[0].summary == "sqs: 5 messages; grew by 2 since 5m ago");
  BOOST_TEST(sqs(2, 5).results[0].status == Status::Warning);  // shrinking
  BOOST_TEST(sqs(100, 100).results[0].status == Status::Critical);
  JobOutput one = sqs(1, 1);
  BOOST_TEST_REQUIRE(one.stateWrites.size() == 1u);
  BOOST_TEST(one.stateWrites[0].sql.find("dlq_depth_last") != std::string::npos);
  BOOST_TEST(one.stateWrites[0].params[2] == "1");
  int sqsSamples = 0;
  for (const auto& s : one.samples) sqsSamples += s.name == "mxpulse_dlq_sqs_messages";
  BOOST_TEST(sqsSamples == 3);

  DlqObservation sql;
  sql.spec = &p.queues[1];
  sql.ok = true;
  sql.depth = 2;
  sql.oldest = kNow - 2 * 3600;
  JobOutput aged = evaluateDlqDepth(p, {sql}, kNow);
  BOOST_TEST(aged.results[0].status == Status::Critical);
  BOOST_TEST(aged.results[0].summary.find("oldest 2h old") != std::string::npos);
  sql.oldest = kNow - 600;
  BOOST_TEST(evaluateDlqDepth(p, {sql}, kNow).results[0].status == Status::Warning);
}

BOOST_AUTO_TEST_CASE(unreadable_is_unknown) {
  auto p = params(kSqs);
  DlqObservation o;
  o.spec = &p.queues[0];
  o.error = "HTTP 400 QueueDoesNotExist: The specified queue does not exist.";
  o.errorCode = "QueueDoesNotExist";
  JobOutput out = evaluateDlqDepth(p, {o}, kNow);
  BOOST_TEST(out.results[0].status == Status::Unknown);
  BOOST_TEST(out.stateWrites.empty());  // no depth recorded: growth stays honest
  BOOST_TEST_REQUIRE(out.samples.size() == 1u);
  BOOST_TEST(out.samples[0].name == "mxpulse_dlq_read_error");
}

BOOST_AUTO_TEST_SUITE_END()
