// SPDX-License-Identifier: Apache-2.0
#include "tests/support/sqs_emulators.hpp"

#include <signal.h>
#include <sys/stat.h>

#include <stdexcept>

#include "probes/bounded_http.hpp"

namespace mxpulse::test {

namespace {

std::string nodeDir() {
  return sourceDir() + "/tests/node";
}

bool isDir(const std::string& p) {
  struct stat st {};
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string jsonField(const std::string& body, const std::string& key) {
  std::string k = "\"" + key + "\":\"";
  size_t at = body.find(k);
  if (at == std::string::npos) return "";
  size_t start = at + k.size();
  return body.substr(start, body.find('"', start) - start);
}

std::string xmlField(const std::string& body, const std::string& tag) {
  size_t at = body.find("<" + tag + ">");
  if (at == std::string::npos) return "";
  size_t start = at + tag.size() + 2;
  return body.substr(start, body.find("</" + tag + ">", start) - start);
}

}  // namespace

void skipUnlessSqsEmulators() {
  bool node = runProcess({"node", "--version"}, {}, std::chrono::seconds(20)).exitCode == 0;
  skipUnless(node, "node is not installed (scripts/deps.sh --test)");
  skipUnless(
      isDir(nodeDir() + "/node_modules/sqslite") && isDir(nodeDir() + "/node_modules/fauxqs"),
      "SQS emulators not installed in tests/node (scripts/deps.sh --test)");
}

SqsEmulator::SqsEmulator(Kind kind) : kind_(kind) {
  port_ = freePort();
  std::string script =
      nodeDir() + (kind == Kind::Sqslite ? "/sqslite-loopback.js" : "/fauxqs-loopback.mjs");
  std::string log = dir_.file("emulator.log");
  child_ =
      std::make_unique<Child>(std::vector<std::string>{"node", script, std::to_string(port_)}, log);
  if (!eventually([&] { return readFile(log).find("listening") != std::string::npos; },
                  std::chrono::seconds(30)))
    throw std::runtime_error("SQS emulator did not start: " + readFile(log));
}

SqsEmulator::~SqsEmulator() {
  child_->signal(SIGTERM);
  if (child_->wait(std::chrono::seconds(5)) == -1) child_->signal(SIGKILL);
}

std::string SqsEmulator::endpoint() const {
  return std::string(kind_ == Kind::Sqslite ? "http://localhost:" : "http://127.0.0.1:") +
         std::to_string(port_);
}

std::string SqsEmulator::call(const std::string& action, const std::string& body) {
  probes::HttpRequest req;
  req.method = "POST";
  req.url = endpoint() + "/";
  // Emulators do not check signatures; fauxqs reads the region from here.
  req.headers.emplace_back("Authorization",
                           "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260501/us-east-1/sqs/"
                           "aws4_request, SignedHeaders=host, Signature=00");
  if (kind_ == Kind::Fauxqs) {
    req.headers.emplace_back("Content-Type", "application/x-amz-json-1.0");
    req.headers.emplace_back("X-Amz-Target", "AmazonSQS." + action);
    req.body = body;
  } else {
    req.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded");
    req.body = "Action=" + action + "&" + body;
  }
  auto resp = probes::httpRequest(req, Deadline::in(std::chrono::seconds(10)));
  if (!resp.ok || resp.status != 200)
    throw std::runtime_error(action + " failed: " + resp.error + " " + std::to_string(resp.status) +
                             " " + resp.body);
  return resp.body;
}

std::string SqsEmulator::createQueue(const std::string& name) {
  if (kind_ == Kind::Fauxqs)
    return jsonField(call("CreateQueue", "{\"QueueName\":\"" + name + "\"}"), "QueueUrl");
  return xmlField(call("CreateQueue", "QueueName=" + name), "QueueUrl");
}

void SqsEmulator::sendMessage(const std::string& queueUrl, const std::string& body,
                              int delaySeconds) {
  if (kind_ == Kind::Fauxqs) {
    call("SendMessage", "{\"QueueUrl\":\"" + queueUrl + "\",\"MessageBody\":\"" + body +
                            "\",\"DelaySeconds\":" + std::to_string(delaySeconds) + "}");
  } else {
    call("SendMessage", "QueueUrl=" + probes::percentEncode(queueUrl) +
                            "&MessageBody=" + probes::percentEncode(body) +
                            (delaySeconds ? "&DelaySeconds=" + std::to_string(delaySeconds) : ""));
  }
}

void SqsEmulator::receiveMessage(const std::string& queueUrl, int visibility) {
  if (kind_ == Kind::Fauxqs) {
    call("ReceiveMessage", "{\"QueueUrl\":\"" + queueUrl +
                               "\",\"MaxNumberOfMessages\":1,\"VisibilityTimeout\":" +
                               std::to_string(visibility) + "}");
  } else {
    call("ReceiveMessage",
         "QueueUrl=" + probes::percentEncode(queueUrl) +
             "&MaxNumberOfMessages=1&VisibilityTimeout=" + std::to_string(visibility));
  }
}

}  // namespace mxpulse::test
