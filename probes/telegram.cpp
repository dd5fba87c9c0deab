// SPDX-License-Identifier: Apache-2.0
#include "probes/telegram.hpp"

#include <Poco/Exception.h>
#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetSSL.h>
#include <Poco/Net/RejectCertificateHandler.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <cctype>
#include <memory>
#include <mutex>
#include <sstream>

namespace mxpulse::probes {

namespace {

constexpr size_t kMaxResponseBytes = 1 << 20;

/// Poco's SSLManager asks an "invalid certificate handler" what to do with
/// a certificate that fails verification; without one it wants a
/// Poco::Util::Application config. Ours rejects, so a bad certificate is a
/// clean error.
Poco::Net::Context::Ptr clientContext() {
  static std::once_flag once;
  static Poco::Net::Context::Ptr context;
  std::call_once(once, [] {
    Poco::Net::initializeSSL();
    context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "",
                                     Poco::Net::Context::VERIFY_RELAXED, 9, true);
    Poco::SharedPtr<Poco::Net::InvalidCertificateHandler> reject =
        new Poco::Net::RejectCertificateHandler(false);
    Poco::Net::SSLManager::instance().initializeClient(nullptr, reject, context);
  });
  return context;
}

bool numericChatId(const std::string& id) {
  if (id.empty()) return false;
  size_t i = id[0] == '-' ? 1 : 0;
  if (i == id.size()) return false;
  for (; i < id.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(id[i]))) return false;
  return id.size() <= 20;
}

std::string shorten(std::string s) {
  if (s.size() > 300) s = s.substr(0, 300) + "...";
  return s;
}

}  // namespace

TelegramSend telegramSendMessage(const TelegramEndpoint& endpoint, const std::string& chatId,
                                 const std::string& text, const std::string& parseMode,
                                 Deadline deadline) {
  TelegramSend out;
  std::string why = checkTelegramBaseUrl(endpoint.baseUrl);
  if (!why.empty()) {
    out.outcome = TelegramSend::Outcome::Rejected;
    out.description = "api_base_url " + why;
    return out;
  }
  if (deadline.expired()) {
    out.description = "no time left to send";
    return out;
  }
  bool requestSent = false;
  const std::string where = " (" + endpoint.baseUrl + ")";
  try {
    Poco::URI uri(endpoint.baseUrl);
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (uri.getScheme() == "https")
      session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(),
                                                                clientContext());
    else
      session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    Poco::Timespan left(static_cast<Poco::Timespan::TimeDiff>(deadline.remainingMs()) * 1000);
    session->setTimeout(left, left, left);

    std::string prefix = uri.getPath();
    while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_POST,
                                   prefix + "/bot" + endpoint.token + "/sendMessage",
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    Poco::JSON::Object body;
    if (numericChatId(chatId))
      body.set("chat_id", static_cast<Poco::Int64>(std::stoll(chatId)));
    else
      body.set("chat_id", chatId);
    body.set("text", text);
    if (!parseMode.empty()) body.set("parse_mode", parseMode);
    Poco::JSON::Object::Ptr preview = new Poco::JSON::Object;
    preview->set("is_disabled", true);
    body.set("link_preview_options", preview);
    std::ostringstream json;
    body.stringify(json);
    const std::string payload = json.str();
    request.setContentType("application/json");
    request.setContentLength(static_cast<std::streamsize>(payload.size()));
    request.setKeepAlive(false);

    std::ostream& os = session->sendRequest(request);
    os << payload;
    os.flush();
    requestSent = true;
    Poco::Net::HTTPResponse response;
    std::istream& is = session->receiveResponse(response);
    std::string answer;
    char buf[4096];
    while (is && answer.size() < kMaxResponseBytes) {
      is.read(buf, sizeof buf);
      answer.append(buf, static_cast<size_t>(is.gcount()));
    }
    out.httpStatus = static_cast<int>(response.getStatus());

    bool ok = false;
    std::string description;
    int retryAfter = 0;
    bool parsed = false;
    try {
      Poco::JSON::Parser parser;
      Poco::Dynamic::Var v = parser.parse(answer);
      Poco::JSON::Object::Ptr obj = v.extract<Poco::JSON::Object::Ptr>();
      if (obj) {
        parsed = true;
        ok = obj->optValue<bool>("ok", false);
        description = obj->optValue<std::string>("description", "");
        Poco::JSON::Object::Ptr params = obj->getObject("parameters");
        if (params) retryAfter = params->optValue<int>("retry_after", 0);
      }
    } catch (const Poco::Exception&) {
      parsed = false;
    }
    description = maskToken(shorten(description), endpoint.token);
    int status = out.httpStatus;
    if (status == 200 && parsed && ok) {
      out.outcome = TelegramSend::Outcome::Sent;
      return out;
    }
    std::string code = "HTTP " + std::to_string(status);
    out.description = description.empty() ? code + where : code + ": " + description;
    if (status == 429) {
      out.outcome = TelegramSend::Outcome::RetryAfter;
      out.retryAfter = retryAfter > 0 ? retryAfter : 5;
    } else if (status == 400 && description.find("can't parse entities") != std::string::npos) {
      out.outcome = TelegramSend::Outcome::ParseError;
    } else if (status >= 400 && status < 500) {
      out.outcome = TelegramSend::Outcome::Rejected;
    } else {
      out.outcome = TelegramSend::Outcome::ServerError;
      out.maybeDelivered = true;
      if (!parsed) out.description = code + ": answer is not Bot API JSON" + where;
    }
    return out;
  } catch (const Poco::TimeoutException&) {
    out.description =
        std::string(requestSent ? "no answer in time" : "timed out connecting") + where;
  } catch (const Poco::Exception& e) {
    out.description = maskToken(shorten(e.displayText()), endpoint.token) + where;
  } catch (const std::exception& e) {
    out.description = maskToken(shorten(e.what()), endpoint.token) + where;
  }
  out.outcome = TelegramSend::Outcome::NetworkError;
  out.maybeDelivered = requestSent;
  return out;
}

}  // namespace mxpulse::probes
