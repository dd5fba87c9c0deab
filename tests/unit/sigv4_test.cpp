// SPDX-License-Identifier: Apache-2.0
// The SigV4 signer against the official aws-sig-v4-test-suite (read from
// the shared suites directory at test time) and against the SQS vectors in
// reference/formats.md §5, which botocore's SigV4Auth produced.
#include <boost/test/unit_test.hpp>

#include <filesystem>
#include <map>
#include <set>

#include "probes/digest.hpp"
#include "probes/sigv4.hpp"
#include "tests/support/test_support.hpp"

using namespace mxpulse;
using namespace mxpulse::probes;
namespace fs = std::filesystem;

namespace {

const char* kSuiteKey = "AKIDEXAMPLE";
const char* kSuiteSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// Cases the signer is not meant to pass, with the reason.
const std::map<std::string, std::string> kNotApplicable = {
    {"get-header-value-multiline",
     "obs-folded header values: mxpulse never sends them, and implementations sign them "
     "inconsistently (suites README §3)"},
};

/// Known errata of the 2015 suite: the .creq was written from the request
/// as given, but .sts/.authz/.sreq were computed from a variant of it (no
/// Content-Length; in -parameters also "charset=utf8"). The canonical
/// request is checked as given, the signature against the variant, which
/// shows that the signer agrees with both halves of the files.
struct Erratum {
  const char* why;
  bool dropContentLength;
  const char* contentType;  ///< replacement, or nullptr
  bool compareAuthzText;    ///< false when .authz is internally inconsistent
};
const std::map<std::string, Erratum> kErrata = {
    {"post-x-www-form-urlencoded",
     {".sts/.authz/.sreq omit the Content-Length that .creq signs", true, nullptr, true}},
    {"post-x-www-form-urlencoded-parameters",
     {".sts was computed without Content-Length and with \"charset=utf8\"; .authz lists "
      "content-length while .sreq does not",
      true, "application/x-www-form-urlencoded; charset=utf8", false}},
};

std::string percentDecode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

/// Parses a suite .req file: request line, headers, blank line, body. The
/// request target is unencoded and may hold spaces (get-space).
bool parseReq(const std::string& text, SigV4Request& req, std::string& why) {
  size_t eol = text.find('\n');
  std::string first = text.substr(0, eol);
  size_t sp = first.find(' ');
  size_t proto = first.rfind(" HTTP/");
  if (sp == std::string::npos || proto == std::string::npos || proto <= sp) {
    why = "bad request line";
    return false;
  }
  req.method = first.substr(0, sp);
  std::string target = first.substr(sp + 1, proto - sp - 1);
  size_t q = target.find('?');
  req.path = target.substr(0, q);
  if (q != std::string::npos) {
    std::string qs = target.substr(q + 1);
    size_t i = 0;
    while (i <= qs.size()) {
      size_t amp = qs.find('&', i);
      if (amp == std::string::npos) amp = qs.size();
      std::string pair = qs.substr(i, amp - i);
      if (!pair.empty()) {
        size_t eq = pair.find('=');
        req.query.emplace_back(percentDecode(pair.substr(0, eq)),
                               eq == std::string::npos ? "" : percentDecode(pair.substr(eq + 1)));
      }
      i = amp + 1;
    }
  }
  size_t pos = eol == std::string::npos ? text.size() : eol + 1;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) {
      req.body = pos < text.size() ? text.substr(pos) : "";
      break;
    }
    if (line[0] == ' ' || line[0] == '\t') {
      why = "folded header";
      return false;
    }
    size_t colon = line.find(':');
    req.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return true;
}

struct SuiteCase {
  std::string name;
  std::string dir;
};

std::vector<SuiteCase> suiteCases(const std::string& root) {
  std::vector<SuiteCase> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (!e.is_regular_file() || e.path().extension() != ".req") continue;
    out.push_back({e.path().stem().string(), e.path().parent_path().string()});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::string suiteRoot() {
  std::string s = test::suitesDir();
  if (s.empty()) return "";
  std::string dir = s + "/aws-sigv4-testsuite-2015/aws-sig-v4-test-suite";
  return fs::is_directory(dir) ? dir : "";
}

}  // namespace

BOOST_AUTO_TEST_SUITE(sigv4)

BOOST_AUTO_TEST_CASE(hmac_matches_rfc4231_case_2) {
  BOOST_TEST(toHex(hmacSha256("Jefe", "what do ya want for nothing?")) ==
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  BOOST_TEST(sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

BOOST_AUTO_TEST_CASE(uri_encoding_and_paths) {
  BOOST_TEST(awsUriEncode("a b/c~", true) == "a%20b%2Fc~");
  BOOST_TEST(awsUriEncode("a b/c~", false) == "a%20b/c~");
  BOOST_TEST(awsCanonicalPath("", true) == "/");
  BOOST_TEST(awsCanonicalPath("//example//", true) == "/example/");
  BOOST_TEST(awsCanonicalPath("/a/b/..", true) == "/a/");
  BOOST_TEST(awsCanonicalPath("/123456789012/mail-dlq", true) == "/123456789012/mail-dlq");
  BOOST_TEST(amzDate(1440938160) == "20150830T123600Z");
}

// Every applicable case of the official suite: canonical request, string
// to sign, Authorization header and the signed request's headers.
BOOST_AUTO_TEST_CASE(official_suite) {
  std::string root = suiteRoot();
  test::skipUnless(!root.empty(), "aws-sig-v4-test-suite not found under test::suitesDir()");
  auto cases = suiteCases(root);
  BOOST_TEST_REQUIRE(cases.size() >= 31u);
  std::string token =
      test::readFile(root + "/post-sts-token/readme.txt");  // value follows "example value"
  size_t at = token.find("AQoDYXdz");
  BOOST_TEST_REQUIRE(at != std::string::npos);
  token = token.substr(at);
  while (!token.empty() && (token.back() == '\n' || token.back() == ' ')) token.pop_back();

  int passed = 0, skipped = 0;
  for (const auto& c : cases) {
    BOOST_TEST_CONTEXT("case " << c.name) {
      auto na = kNotApplicable.find(c.name);
      if (na != kNotApplicable.end()) {
        ++skipped;
        BOOST_TEST_MESSAGE("sigv4 suite: " << c.name << " not applicable: " << na->second);
        continue;
      }
      std::string base = c.dir + "/" + c.name;
      SigV4Request req;
      std::string why;
      BOOST_TEST_REQUIRE(parseReq(test::readFile(base + ".req"), req, why), why);
      AwsCredentials creds{kSuiteKey, kSuiteSecret, "", "suite"};
      SigV4Params params;
      params.region = "us-east-1";
      params.service = "service";
      params.unixTime = 0;  // every .req carries X-Amz-Date, which wins
      if (c.name.rfind("post-sts-header-", 0) == 0) {
        creds.sessionToken = token;
        params.signSessionToken = c.name == "post-sts-header-before";
      }
      SigV4Signed s = signV4(req, creds, params);
      bool ok = true;
      auto check = [&](const std::string& got, const std::string& file) {
        std::string want = test::readFile(base + file);
        BOOST_TEST(got == want, file);
        ok = ok && got == want;
      };
      check(s.canonicalRequest, ".creq");
      auto erratum = kErrata.find(c.name);
      if (erratum != kErrata.end()) {
        BOOST_TEST_MESSAGE("sigv4 suite: " << c.name << " erratum: " << erratum->second.why);
        SigV4Request variant = req;
        variant.headers.clear();
        for (auto [n, v] : req.headers) {
          if (erratum->second.dropContentLength && n == "Content-Length") continue;
          if (erratum->second.contentType && n == "Content-Type") v = erratum->second.contentType;
          variant.headers.emplace_back(n, v);
        }
        s = signV4(variant, creds, params);
        if (!erratum->second.compareAuthzText) {
          check(s.stringToSign, ".sts");
          std::string authz = test::readFile(base + ".authz");
          std::string sig = authz.substr(authz.rfind("Signature=") + 10);
          BOOST_TEST(s.signature == sig);
          if (ok && s.signature == sig) ++passed;
          continue;
        }
      }
      check(s.stringToSign, ".sts");
      check(s.authorization, ".authz");
      // Each header line of the signed request must be among ours.
      std::set<std::string> ours;
      for (const auto& [n, v] : s.headers) {
        std::string value = v;
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        ours.insert(n + ":" + value);
      }
      std::string sreq = test::readFile(base + ".sreq");
      size_t pos = sreq.find('\n') + 1;
      while (pos < sreq.size()) {
        size_t end = sreq.find('\n', pos);
        if (end == std::string::npos) end = sreq.size();
        std::string line = sreq.substr(pos, end - pos);
        pos = end + 1;
        if (line.empty()) break;
        size_t colon = line.find(':');
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ') value.erase(0, 1);
        std::string norm = line.substr(0, colon) + ":" + value;
        bool found = ours.count(norm) > 0;
        BOOST_TEST(found, ".sreq header " << norm);
        ok = ok && found;
      }
      if (ok) ++passed;
    }
  }
  BOOST_TEST_MESSAGE("sigv4 suite: " << passed << " of " << cases.size() << " cases passed, "
                                     << skipped << " not applicable");
  BOOST_TEST(passed + skipped == static_cast<int>(cases.size()));
  BOOST_TEST(skipped == static_cast<int>(kNotApplicable.size()));
}

// formats.md §5: SQS JSON GetQueueAttributes signed by botocore.
BOOST_AUTO_TEST_CASE(sqs_json_vector) {
  SigV4Request req;
  req.method = "POST";
  req.path = "/";
  req.headers = {{"Content-Type", "application/x-amz-json-1.0"},
                 {"Host", "sqs.us-east-1.amazonaws.com"},
                 {"X-Amz-Target", "AmazonSQS.GetQueueAttributes"}};
  req.body =
      R"({"QueueUrl":"https://sqs.us-east-1.amazonaws.com/123456789012/mail-dlq","AttributeNames":["ApproximateNumberOfMessages","ApproximateNumberOfMessagesNotVisible"]})";
  SigV4Params p{"us-east-1", "sqs", 1440938160, true, true};
  SigV4Signed s = signV4(req, {kSuiteKey, kSuiteSecret, "", ""}, p);
  BOOST_TEST(s.canonicalRequest ==
             "POST\n/\n\ncontent-type:application/x-amz-json-1.0\nhost:sqs.us-east-1.amazonaws."
             "com\nx-amz-date:20150830T123600Z\nx-amz-target:AmazonSQS.GetQueueAttributes\n\n"
             "content-type;host;x-amz-date;x-amz-target\n"
             "bad2c00dc5afa4055ae7c156818e28cbd11927db9cf4341f8ec3ce0e0ee6110f");
  BOOST_TEST(sha256Hex(s.canonicalRequest) ==
             "a60ec798895aef2c2840157cd55b7c27623962658be7e24ede1db0744bbc3ecc");
  BOOST_TEST(s.authorization ==
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/sqs/aws4_request, "
             "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
             "Signature=7ecb1d1ee0c3946f58796e1f497278fe1660818c03003eb24c82561a07c4ee0b");
}

BOOST_AUTO_TEST_CASE(sqs_query_vector) {
  SigV4Request req;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"},
                 {"Host", "sqs.us-east-1.amazonaws.com"}};
  req.body =
      "Action=GetQueueAttributes&AttributeName.1=ApproximateNumberOfMessages&QueueUrl=https%3A%2F%"
      "2Fsqs.us-east-1.amazonaws.com%2F123456789012%2Fmail-dlq&Version=2012-11-05";
  SigV4Params p{"us-east-1", "sqs", 1440938160, true, true};
  SigV4Signed s = signV4(req, {kSuiteKey, kSuiteSecret, "", ""}, p);
  BOOST_TEST(s.signature == "5bfa8863c8169d6d082ea1c31bdf48a7911d8e6823d0249fd0d9ab300dd2c3af");
}

BOOST_AUTO_TEST_CASE(session_token_is_signed_and_sent) {
  SigV4Request req;
  req.headers = {{"Host", "sqs.eu-west-1.amazonaws.com"}};
  SigV4Params p{"eu-west-1", "sqs", 1440938160, true, true};
  SigV4Signed s = signV4(req, {kSuiteKey, kSuiteSecret, "TOKEN123", ""}, p);
  BOOST_TEST(s.canonicalRequest.find("x-amz-security-token:TOKEN123\n") != std::string::npos);
  BOOST_TEST(s.authorization.find("SignedHeaders=host;x-amz-date;x-amz-security-token") !=
             std::string::npos);
  BOOST_TEST(s.authorization.find(kSuiteSecret) == std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
