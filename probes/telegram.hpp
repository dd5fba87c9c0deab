// SPDX-License-Identifier: Apache-2.0
// Telegram Bot API client: sendMessage over HTTPS (or plain HTTP for a
// self-hosted Bot API server and for tests), bounded by a deadline. No
// policy: the caller decides what to retry (agent/output/telegram_notifier).
//
// The token is part of the URL path (/bot<TOKEN>/sendMessage) and therefore
// a secret in every string this file produces: errors name the base URL
// only, and anything that might echo the URL is passed through maskToken().
#pragma once

#include <string>

#include "probes/deadline.hpp"

namespace mxpulse::probes {

struct TelegramEndpoint {
  std::string baseUrl = "https://api.telegram.org";  ///< scheme://host[:port][/prefix]
  std::string token;
};

struct TelegramSend {
  enum class Outcome {
    Sent,          ///< 200 ok:true
    ParseError,    ///< 400 "can't parse entities": resend as plain text
    RetryAfter,    ///< 429 flood control; wait retryAfter seconds
    Rejected,      ///< other 4xx: the request is wrong (chat not found, bad token, ...)
    ServerError,   ///< 5xx or a malformed answer
    NetworkError,  ///< no answer (refused, reset, timeout, TLS failure)
  };
  Outcome outcome = Outcome::NetworkError;
  int httpStatus = 0;
  int retryAfter = 0;       ///< seconds, for RetryAfter
  std::string description;  ///< Telegram's or ours; never contains the token
  /// The request may have reached Telegram although we saw no success
  /// (connection lost after sending, 5xx): resending may duplicate.
  bool maybeDelivered = false;
};

/// POST {baseUrl}/bot{token}/sendMessage with a JSON body. `parseMode`
/// "" sends plain text. `chatId` is an integer id or @channelname.
TelegramSend telegramSendMessage(const TelegramEndpoint& endpoint, const std::string& chatId,
                                 const std::string& text, const std::string& parseMode,
                                 Deadline deadline);

/// "" if `url` is a usable base URL (http or https, a host, no query),
/// else why not.
std::string checkTelegramBaseUrl(const std::string& url);

/// Replaces every occurrence of the token (and of its numeric bot id's
/// secret part) with "<token>".
std::string maskToken(const std::string& text, const std::string& token);

}  // namespace mxpulse::probes
