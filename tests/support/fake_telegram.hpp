// SPDX-License-Identifier: Apache-2.0
// A fake Telegram Bot API server on 127.0.0.1 (formats.md section 3): POST
// /bot<token>/sendMessage with a JSON or form body. It records every
// request, checks the token, the method, chat_id, text and parse_mode, and
// validates HTML against Telegram's subset (allowed tags, nesting, only
// &lt; &gt; &amp; &quot; and numeric entities, <= 4096 visible characters),
// answering 400 "can't parse entities" like Telegram when it is wrong.
// Replies can be scripted: ok, can't-parse, 429 retry_after, 500, chat not
// found, or hang until released.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace mxpulse::test {

class FakeTelegram {
 public:
  enum class Reply { Ok, ParseError, TooManyRequests, ServerError, ChatNotFound, Hang };

  struct Request {
    std::string token, method, chatId, text, parseMode;
    bool valid = true;    ///< the request was well formed (and its HTML, if any)
    std::string problem;  ///< why not
  };

  explicit FakeTelegram(std::string token = "123456:TEST-token_abcdef");
  ~FakeTelegram();
  FakeTelegram(const FakeTelegram&) = delete;
  FakeTelegram& operator=(const FakeTelegram&) = delete;

  std::string baseUrl() const;
  int port() const;
  /// The reply for requests beyond the script.
  void setDefault(Reply reply);
  /// Replies for the next requests, in order (then the default).
  void script(std::vector<Reply> replies);
  void setRetryAfter(int seconds);
  /// Lets hanging requests finish (they answer ok).
  void releaseHung();

  std::vector<Request> requests() const;
  size_t count() const;
  /// Waits until at least `n` requests arrived.
  bool waitFor(size_t n, std::chrono::milliseconds timeout) const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

/// "" if `text` is valid Telegram HTML, else the reason. `visible` receives
/// the length Telegram would count (UTF-16 units after entity parsing).
std::string checkTelegramHtml(const std::string& text, size_t* visible = nullptr);

/// The visible text of Telegram HTML (tags dropped, entities decoded).
std::string telegramHtmlText(const std::string& text);

}  // namespace mxpulse::test
