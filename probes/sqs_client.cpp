// SPDX-License-Identifier: Apache-2.0
#include "probes/sqs_client.hpp"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>

#include <cstdlib>
#include <fstream>
#include <iterator>

#include "probes/bounded_http.hpp"
#include "probes/xml_tree.hpp"

namespace mxpulse::probes {

namespace {

const char* const kAttributeNames[] = {"ApproximateNumberOfMessages",
                                       "ApproximateNumberOfMessagesNotVisible",
                                       "ApproximateNumberOfMessagesDelayed"};

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::string envOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out + "\"";
}

std::optional<std::int64_t> count(const std::map<std::string, std::string>& attrs,
                                  const char* name) {
  auto it = attrs.find(name);
  if (it == attrs.end()) return std::nullopt;
  char* end = nullptr;
  long long v = std::strtoll(it->second.c_str(), &end, 10);
  if (!end || *end != '\0' || it->second.empty() || v < 0) return std::nullopt;
  return v;
}

std::string clip(const std::string& s, size_t n = 200) {
  return s.size() <= n ? s : s.substr(0, n - 3) + "...";
}

void parseJsonReply(const HttpResponse& resp, SqsAttributes& out) {
  Poco::JSON::Object::Ptr obj;
  try {
    Poco::JSON::Parser parser;
    obj = parser.parse(resp.body).extract<Poco::JSON::Object::Ptr>();
  } catch (const std::exception&) {
  }
  if (resp.status != 200) {
    // "__type": "com.amazonaws.sqs#QueueDoesNotExist"; botocore keeps what
    // follows '#' and drops anything after ':'.
    std::string type = obj && obj->has("__type") ? obj->getValue<std::string>("__type") : "";
    if (size_t hash = type.find('#'); hash != std::string::npos) type = type.substr(hash + 1);
    if (size_t colon = type.find(':'); colon != std::string::npos) type = type.substr(0, colon);
    std::string message;
    for (const char* key : {"message", "Message"})
      if (obj && obj->has(key) && message.empty()) message = obj->getValue<std::string>(key);
    out.errorCode = type.empty() ? resp.header("x-amzn-query-error") : type;
    out.error = "HTTP " + std::to_string(resp.status) +
                (out.errorCode.empty() ? "" : " " + out.errorCode) +
                (message.empty() ? "" : ": " + clip(message));
    return;
  }
  if (!obj || !obj->has("Attributes") || !obj->isObject("Attributes")) {
    // An empty result (no attributes) is valid JSON without "Attributes".
    if (obj && !obj->has("Attributes")) {
      out.ok = true;
      return;
    }
    out.error = "unexpected JSON reply";
    return;
  }
  auto attrs = obj->getObject("Attributes");
  for (const auto& name : attrs->getNames()) {
    try {
      out.attributes[name] = attrs->getValue<std::string>(name);
    } catch (const std::exception&) {
    }
  }
  out.ok = true;
}

void parseQueryReply(const HttpResponse& resp, SqsAttributes& out) {
  XmlNode root;
  std::string error;
  if (!parseXmlTree(resp.body, root, error)) {
    out.error = "HTTP " + std::to_string(resp.status) + ": " + error +
                (resp.body.size() < 120 ? " (" + trim(resp.body) + ")" : "");
    return;
  }
  if (root.name == "ErrorResponse" || resp.status != 200) {
    const XmlNode* e = root.find("Error");
    out.errorCode = e ? e->childText("Code") : "";
    std::string message = e ? e->childText("Message") : "";
    out.error = "HTTP " + std::to_string(resp.status) +
                (out.errorCode.empty() ? "" : " " + out.errorCode) +
                (message.empty() ? "" : ": " + clip(message));
    return;
  }
  if (root.name != "GetQueueAttributesResponse") {
    out.error = "unexpected XML reply <" + root.name + ">";
    return;
  }
  const XmlNode* result = root.child("GetQueueAttributesResult");
  if (result)
    for (const auto& a : result->children)
      if (a.name == "Attribute") out.attributes[a.childText("Name")] = a.childText("Value");
  out.ok = true;
}

}  // namespace

std::string sqsEndpoint(const SqsQueueRef& ref) {
  if (!ref.endpoint.empty()) {
    std::string e = ref.endpoint;
    while (!e.empty() && e.back() == '/') e.pop_back();
    return e;
  }
  HttpUrl u;
  std::string error;
  if (!parseHttpUrl(ref.queueUrl, u, error)) return "";
  return u.scheme + "://" + u.hostHeader();
}

std::string sqsRegion(const SqsQueueRef& ref) {
  if (!ref.region.empty()) return ref.region;
  HttpUrl u;
  std::string error;
  if (parseHttpUrl(ref.queueUrl, u, error)) {
    // sqs.<region>.amazonaws.com (also emulators' sqs.<region>.localhost)
    // and the legacy <region>.queue.amazonaws.com.
    const std::string& h = u.host;
    if (h.compare(0, 4, "sqs.") == 0) {
      size_t dot = h.find('.', 4);
      if (dot != std::string::npos && dot > 4) return h.substr(4, dot - 4);
    }
    size_t q = h.find(".queue.amazonaws.com");
    if (q != std::string::npos && q > 0) return h.substr(0, q);
  }
  return "us-east-1";
}

SqsAttributes sqsGetQueueAttributes(const SqsQueueRef& ref, const AwsCredentials& credentials,
                                    std::int64_t unixNow, Deadline deadline) {
  SqsAttributes out;
  std::string endpoint = sqsEndpoint(ref);
  HttpUrl url;
  std::string error;
  if (endpoint.empty() || !parseHttpUrl(endpoint + "/", url, error)) {
    out.error = "bad endpoint or queue URL";
    return out;
  }
  SigV4Request sreq;
  sreq.method = "POST";
  sreq.path = "/";
  sreq.headers.emplace_back("Host", url.hostHeader());
  if (ref.protocol == SqsProtocol::Json) {
    sreq.headers.emplace_back("Content-Type", "application/x-amz-json-1.0");
    sreq.headers.emplace_back("X-Amz-Target", "AmazonSQS.GetQueueAttributes");
    sreq.body = "{\"QueueUrl\":" + jsonString(ref.queueUrl) + ",\"AttributeNames\":[";
    bool first = true;
    for (const char* n : kAttributeNames) {
      sreq.body += (first ? "\"" : ",\"") + std::string(n) + "\"";
      first = false;
    }
    sreq.body += "]}";
  } else {
    sreq.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
    sreq.body =
        "Action=GetQueueAttributes&Version=2012-11-05&QueueUrl=" + percentEncode(ref.queueUrl);
    int i = 1;
    for (const char* n : kAttributeNames)
      sreq.body += "&AttributeName." + std::to_string(i++) + "=" + n;
  }
  SigV4Params sp;
  sp.region = sqsRegion(ref);
  sp.service = "sqs";
  sp.unixTime = unixNow;
  SigV4Signed signedReq = signV4(sreq, credentials, sp);

  HttpRequest req;
  req.method = "POST";
  req.url = endpoint + "/";
  req.body = sreq.body;
  req.maxBodyBytes = 1u << 20;
  for (const auto& [n, v] : signedReq.headers)
    if (n != "Host") req.headers.emplace_back(n, v);  // the client sets Host itself
  HttpResponse resp = httpRequest(req, deadline);
  if (!resp.ok) {
    out.error = resp.error;
    return out;
  }
  out.httpStatus = resp.status;
  if (ref.protocol == SqsProtocol::Json)
    parseJsonReply(resp, out);
  else
    parseQueryReply(resp, out);
  if (!out.ok) return out;
  out.visible = count(out.attributes, kAttributeNames[0]);
  out.notVisible = count(out.attributes, kAttributeNames[1]);
  out.delayed = count(out.attributes, kAttributeNames[2]);
  if (!out.visible) {
    out.ok = false;
    out.error = "the reply has no ApproximateNumberOfMessages";
  }
  return out;
}

bool parseAwsCredentialsFile(const std::string& text, const std::string& profile,
                             AwsCredentials& out, std::string& error) {
  std::string section;
  bool found = false;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = trim(text.substr(pos, end - pos));
    pos = end + 1;
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = trim(line.substr(1, line.size() - 2));
      if (section.compare(0, 8, "profile ") == 0) section = trim(section.substr(8));
      found = found || section == profile;
      continue;
    }
    if (section != profile) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    if (key == "aws_access_key_id")
      out.accessKeyId = value;
    else if (key == "aws_secret_access_key")
      out.secretAccessKey = value;
    else if (key == "aws_session_token")
      out.sessionToken = value;
  }
  if (!found) {
    error = "profile [" + profile + "] not found";
    return false;
  }
  if (!out.valid()) {
    error = "profile [" + profile + "] lacks aws_access_key_id or aws_secret_access_key";
    return false;
  }
  return true;
}

AwsCredentials resolveAwsCredentials(const AwsCredentialSettings& s, std::string& error) {
  AwsCredentials c;
  if (!s.accessKeyId.empty() || !s.secretAccessKey.empty()) {
    c = AwsCredentials{s.accessKeyId, s.secretAccessKey, s.sessionToken, "configuration"};
    if (!c.valid()) error = "configure both access_key_id and secret_access_key";
    return c;
  }
  // The profile chosen in the config wins over the environment's keys.
  if (s.profile.empty() && s.credentialsFile.empty()) {
    std::string id = envOr("AWS_ACCESS_KEY_ID", ""), secret = envOr("AWS_SECRET_ACCESS_KEY", "");
    if (!id.empty() && !secret.empty())
      return AwsCredentials{id, secret, envOr("AWS_SESSION_TOKEN", ""), "environment"};
  }
  std::string profile = s.profile.empty() ? envOr("AWS_PROFILE", "default") : s.profile;
  std::string path = s.credentialsFile;
  if (path.empty()) path = envOr("AWS_SHARED_CREDENTIALS_FILE", "");
  if (path.empty()) path = envOr("HOME", "") + "/.aws/credentials";
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error =
        "no AWS credentials: none configured, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY unset, "
        "and " +
        path + " unreadable";
    return c;
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!parseAwsCredentialsFile(text, profile, c, error)) {
    error = path + ": " + error;
    return AwsCredentials{};
  }
  c.source = path + " [" + profile + "]";
  return c;
}

}  // namespace mxpulse::probes
