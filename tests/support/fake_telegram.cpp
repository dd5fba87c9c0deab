// SPDX-License-Identifier: Apache-2.0
#include "tests/support/fake_telegram.hpp"

#include <Poco/JSON/Object.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTMLForm.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>

#include <algorithm>
#include <cctype>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>

namespace mxpulse::test {

namespace {

size_t utf16Units(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    n += (c & 0xF8) == 0xF0 ? 2 : 1;
  }
  return n;
}

void appendCodePoint(std::string& out, unsigned long cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

/// Parses Telegram HTML; returns "" or the problem, and the visible text.
std::string parseHtml(const std::string& text, std::string& visible) {
  static const std::set<std::string> allowed = {
      "b",   "strong", "i",          "em", "u",        "ins",  "s",   "strike",
      "del", "span",   "tg-spoiler", "a",  "tg-emoji", "code", "pre", "blockquote"};
  std::vector<std::string> open;
  for (size_t i = 0; i < text.size();) {
    char c = text[i];
    if (c == '<') {
      size_t end = text.find('>', i);
      if (end == std::string::npos) return "unclosed start tag at byte offset " + std::to_string(i);
      std::string inner = text.substr(i + 1, end - i - 1);
      bool closing = !inner.empty() && inner[0] == '/';
      if (closing) inner.erase(0, 1);
      size_t nameEnd = 0;
      while (nameEnd < inner.size() &&
             (std::isalnum(static_cast<unsigned char>(inner[nameEnd])) || inner[nameEnd] == '-'))
        ++nameEnd;
      std::string name = inner.substr(0, nameEnd);
      std::transform(name.begin(), name.end(), name.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      if (!allowed.count(name)) return "unsupported start tag \"" + name + "\"";
      if (closing) {
        if (open.empty() || open.back() != name)
          return "unmatched end tag at byte offset " + std::to_string(i) + ", expected \"</" +
                 (open.empty() ? std::string() : open.back()) + ">\", found \"</" + name + ">\"";
        open.pop_back();
      } else {
        std::string attrs = inner.substr(nameEnd);
        if (name == "span" && attrs.find("class=\"tg-spoiler\"") == std::string::npos)
          return "span needs class=\"tg-spoiler\"";
        if (name == "a" && attrs.find("href=") == std::string::npos) return "a needs href";
        open.push_back(name);
      }
      i = end + 1;
    } else if (c == '>') {
      return "unescaped '>' at byte offset " + std::to_string(i);
    } else if (c == '&') {
      size_t semi = text.find(';', i);
      if (semi == std::string::npos || semi - i > 10)
        return "unescaped '&' at byte offset " + std::to_string(i);
      std::string entity = text.substr(i + 1, semi - i - 1);
      if (entity == "lt")
        visible += '<';
      else if (entity == "gt")
        visible += '>';
      else if (entity == "amp")
        visible += '&';
      else if (entity == "quot")
        visible += '"';
      else if (entity.size() > 1 && entity[0] == '#') {
        bool hex = entity[1] == 'x' || entity[1] == 'X';
        std::string digits = entity.substr(hex ? 2 : 1);
        if (digits.empty() || digits.find_first_not_of(hex ? "0123456789abcdefABCDEF"
                                                           : "0123456789") != std::string::npos)
          return "bad numeric entity &" + entity + ";";
        appendCodePoint(visible, std::stoul(digits, nullptr, hex ? 16 : 10));
      } else {
        return "unsupported entity &" + entity + ";";
      }
      i = semi + 1;
    } else {
      visible += c;
      ++i;
    }
  }
  if (!open.empty()) return "can't find end tag corresponding to start tag \"" + open.back() + "\"";
  return "";
}

}  // namespace

std::string checkTelegramHtml(const std::string& text, size_t* visibleLength) {
  std::string visible;
  std::string problem = parseHtml(text, visible);
  if (visibleLength) *visibleLength = utf16Units(visible);
  return problem;
}

std::string telegramHtmlText(const std::string& text) {
  std::string visible;
  parseHtml(text, visible);
  return visible;
}

struct FakeTelegram::Impl {
  std::string token;
  mutable std::mutex mutex;
  mutable std::condition_variable changed;
  std::vector<Request> requests;
  std::deque<Reply> script;
  Reply fallback = Reply::Ok;
  int retryAfter = 1;
  bool released = false;
  bool stopping = false;
  std::unique_ptr<Poco::Net::ServerSocket> socket;
  std::unique_ptr<Poco::Net::HTTPServer> server;
  int port = 0;

  void answer(Poco::Net::HTTPServerResponse& resp, int status, const std::string& body) {
    resp.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    resp.setContentType("application/json");
    resp.setContentLength(static_cast<std::streamsize>(body.size()));
    resp.send() << body;
  }
  void error(Poco::Net::HTTPServerResponse& resp, int code, const std::string& description,
             const std::string& parameters = "") {
    std::string body = "{\"ok\":false,\"error_code\":" + std::to_string(code) +
                       ",\"description\":\"" + description + "\"" +
                       (parameters.empty() ? "" : ",\"parameters\":" + parameters) + "}";
    answer(resp, code, body);
  }

  void handle(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& resp) {
    Request r;
    std::string body;
    Poco::StreamCopier::copyToString(req.stream(), body);
    const std::string& uri = req.getURI();
    // /bot<token>/<method>
    if (uri.rfind("/bot", 0) != 0) return error(resp, 404, "Not Found");
    size_t slash = uri.find('/', 4);
    if (slash == std::string::npos) return error(resp, 404, "Not Found");
    r.token = uri.substr(4, slash - 4);
    r.method = uri.substr(slash + 1);
    std::string lower = r.method;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
    auto record = [&] {
      std::lock_guard<std::mutex> lock(mutex);
      requests.push_back(r);
      changed.notify_all();
    };
    if (r.token != token) {
      r.valid = false;
      r.problem = "wrong token";
      record();
      return error(resp, 401, "Unauthorized");
    }
    if (req.getMethod() != "POST" && req.getMethod() != "GET") {
      r.valid = false;
      r.problem = "method " + req.getMethod();
    }
    if (lower != "sendmessage") {
      r.valid = false;
      r.problem = "unexpected Bot API method " + r.method;
      record();
      return error(resp, 404, "Not Found: method not found");
    }
    bool haveChat = false, haveText = false;
    try {
      if (req.getContentType().find("application/json") != std::string::npos) {
        Poco::JSON::Parser parser;
        auto obj = parser.parse(body).extract<Poco::JSON::Object::Ptr>();
        if (obj->has("chat_id")) {
          haveChat = true;
          r.chatId = obj->get("chat_id").convert<std::string>();
        }
        if (obj->has("text")) {
          haveText = obj->get("text").isString();
          r.text = obj->get("text").convert<std::string>();
        }
        if (obj->has("parse_mode")) r.parseMode = obj->get("parse_mode").convert<std::string>();
      } else {
        Poco::Net::HTMLForm form(req, req.stream());
        haveChat = form.has("chat_id");
        haveText = form.has("text");
        r.chatId = form.get("chat_id", "");
        r.text = form.get("text", "");
        r.parseMode = form.get("parse_mode", "");
      }
    } catch (const Poco::Exception& e) {
      r.valid = false;
      r.problem = "body is not JSON: " + e.displayText();
      record();
      return error(resp, 400, "Bad Request: invalid JSON");
    }
    if (!haveChat || r.chatId.empty()) {
      r.valid = false;
      r.problem = "chat_id missing";
      record();
      return error(resp, 400, "Bad Request: chat_id is empty");
    }
    if (!haveText || r.text.empty()) {
      r.valid = false;
      r.problem = "text missing";
      record();
      return error(resp, 400, "Bad Request: message text is empty");
    }
    size_t visible = utf16Units(r.text);
    if (!r.parseMode.empty()) {
      if (r.parseMode != "HTML") {
        r.valid = false;
        r.problem = "parse_mode " + r.parseMode;
      } else {
        std::string problem = checkTelegramHtml(r.text, &visible);
        if (!problem.empty()) {
          r.valid = false;
          r.problem = problem;
          record();
          return error(resp, 400, "Bad Request: can't parse entities: " + problem);
        }
      }
    }
    if (visible > 4096) {
      r.valid = false;
      r.problem = "message is too long (" + std::to_string(visible) + ")";
      record();
      return error(resp, 400, "Bad Request: message is too long");
    }
    Reply reply;
    int retry;
    {
      std::unique_lock<std::mutex> lock(mutex);
      if (!script.empty()) {
        reply = script.front();
        script.pop_front();
      } else {
        reply = fallback;
      }
      retry = retryAfter;
      requests.push_back(r);
      changed.notify_all();
      if (reply == Reply::Hang) {
        changed.wait(lock, [this] { return released || stopping; });
        if (stopping) return;
      }
    }
    switch (reply) {
      case Reply::Ok:
      case Reply::Hang:
        return answer(resp, 200,
                      "{\"ok\":true,\"result\":{\"message_id\":" + std::to_string(count()) +
                          ",\"chat\":{\"id\":1},\"date\":1,\"text\":\"\"}}");
      case Reply::ParseError:
        return error(resp, 400,
                     "Bad Request: can't parse entities: Unsupported start tag \\\"x\\\" at byte "
                     "offset 0");
      case Reply::TooManyRequests:
        return error(resp, 429, "Too Many Requests: retry after " + std::to_string(retry),
                     "{\"retry_after\":" + std::to_string(retry) + "}");
      case Reply::ServerError:
        return error(resp, 500, "Internal Server Error");
      case Reply::ChatNotFound:
        return error(resp, 400, "Bad Request: chat not found");
    }
  }

  size_t count() const {
    std::lock_guard<std::mutex> lock(mutex);
    return requests.size();
  }
};

namespace {
class Handler : public Poco::Net::HTTPRequestHandler {
 public:
  explicit Handler(FakeTelegram::Impl& impl) : impl_(impl) {}
  void handleRequest(Poco::Net::HTTPServerRequest& req,
                     Poco::Net::HTTPServerResponse& resp) override {
    try {
      impl_.handle(req, resp);
    } catch (const Poco::Exception&) {
      // The client went away (e.g. killed while we hung): nothing to answer.
    }
  }

 private:
  FakeTelegram::Impl& impl_;
};

class Factory : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  explicit Factory(FakeTelegram::Impl& impl) : impl_(impl) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(
      const Poco::Net::HTTPServerRequest&) override {
    return new Handler(impl_);
  }

 private:
  FakeTelegram::Impl& impl_;
};
}  // namespace

FakeTelegram::FakeTelegram(std::string token) : impl_(std::make_unique<Impl>()) {
  impl_->token = std::move(token);
  impl_->socket =
      std::make_unique<Poco::Net::ServerSocket>(Poco::Net::SocketAddress("127.0.0.1", 0));
  impl_->port = impl_->socket->address().port();
  Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
  params->setMaxThreads(8);
  params->setKeepAlive(false);
  impl_->server =
      std::make_unique<Poco::Net::HTTPServer>(new Factory(*impl_), *impl_->socket, params);
  impl_->server->start();
}

FakeTelegram::~FakeTelegram() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->stopping = true;
  }
  impl_->changed.notify_all();
  impl_->server->stopAll(true);
}

std::string FakeTelegram::baseUrl() const {
  return "http://127.0.0.1:" + std::to_string(impl_->port);
}
int FakeTelegram::port() const {
  return impl_->port;
}

void FakeTelegram::setDefault(Reply reply) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->fallback = reply;
}

void FakeTelegram::script(std::vector<Reply> replies) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->script.assign(replies.begin(), replies.end());
}

void FakeTelegram::setRetryAfter(int seconds) {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  impl_->retryAfter = seconds;
}

void FakeTelegram::releaseHung() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    impl_->released = true;
  }
  impl_->changed.notify_all();
}

std::vector<FakeTelegram::Request> FakeTelegram::requests() const {
  std::lock_guard<std::mutex> lock(impl_->mutex);
  return impl_->requests;
}

size_t FakeTelegram::count() const {
  return impl_->count();
}

bool FakeTelegram::waitFor(size_t n, std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(impl_->mutex);
  return impl_->changed.wait_for(lock, timeout, [&] { return impl_->requests.size() >= n; });
}

}  // namespace mxpulse::test
