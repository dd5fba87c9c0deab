// SPDX-License-Identifier: Apache-2.0
#include "agent/output/alert_config.hpp"

#include <unistd.h>

#include <cctype>
#include <set>

#include "agent/yaml_reader.hpp"
#include "probes/telegram.hpp"

namespace mxpulse {

namespace {

constexpr int kMaxCount = 1000;

bool validRuleName(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
      return false;
  return std::isalnum(static_cast<unsigned char>(s[0])) != 0;
}

bool validChatId(const std::string& s) {
  if (s.size() > 1 && s[0] == '@') return true;
  size_t i = s[0] == '-' ? 1 : 0;
  if (s.empty() || i == s.size() || s.size() > 20) return false;
  for (; i < s.size(); ++i)
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

std::int64_t seconds(Millis d) {
  return std::chrono::duration_cast<std::chrono::seconds>(d).count();
}

/// The policy keys, shared by alerts.policy and a job's alerts.
void readPolicy(MapReader& r, AlertPolicy& p) {
  p.failAfterCritical =
      static_cast<int>(r.integer("fail_after_critical", p.failAfterCritical, 1, kMaxCount));
  p.failAfterWarning =
      static_cast<int>(r.integer("fail_after_warning", p.failAfterWarning, 1, kMaxCount));
  p.failAfterUnknown =
      static_cast<int>(r.integer("fail_after_unknown", p.failAfterUnknown, 1, kMaxCount));
  p.recoverAfter = static_cast<int>(r.integer("recover_after", p.recoverAfter, 1, kMaxCount));
  p.remindEverySeconds =
      seconds(r.duration("remind_every", std::chrono::seconds(p.remindEverySeconds)));
  p.flapWindowSeconds =
      seconds(r.duration("flap_window", std::chrono::seconds(p.flapWindowSeconds)));
  p.flapThreshold = static_cast<int>(r.integer("flap_threshold", p.flapThreshold, 0, kMaxCount));
  if (r.has("remind_every") && p.remindEverySeconds > 0 && p.remindEverySeconds < 60)
    r.errors().add(r.node("remind_every"), r.childPath("remind_every"),
                   "must be at least 1m (or 0s for no reminders)");
  if (p.flapThreshold > 0 && p.flapWindowSeconds < 1)
    r.errors().add(r.node("flap_window"), r.childPath("flap_window"),
                   "must be at least 1s (or set flap_threshold: 0 to turn flap damping off)");
}

void parseTelegram(const YAML::Node& node, TelegramConfig& t, ConfigErrors& errors,
                   bool resolveSecrets) {
  MapReader r(node, "alerts.telegram", errors);
  if (!r.ok()) return;
  t.enabled = true;
  t.apiBaseUrl = r.str("api_base_url", t.apiBaseUrl);
  std::string why = probes::checkTelegramBaseUrl(t.apiBaseUrl);
  if (!why.empty()) errors.add(r.node("api_base_url"), "alerts.telegram.api_base_url", why);
  t.botToken = r.secret("bot_token", true, resolveSecrets).value_or("");
  if (resolveSecrets && !t.botToken.empty()) {
    for (char c : t.botToken)
      if (std::isspace(static_cast<unsigned char>(c)) || c == '/' || c == '?' || c == '#') {
        // Never echo the token: only say what is wrong with it.
        errors.add(r.node(r.has("bot_token") ? "bot_token" : "bot_token_file"),
                   "alerts.telegram.bot_token",
                   "the token contains a space, '/', '?' or '#'; a bot token looks like "
                   "123456:ABC-DEF...");
        break;
      }
  }
  t.timeout = r.duration("timeout", t.timeout);
  if (t.timeout < std::chrono::seconds(1) || t.timeout > std::chrono::minutes(5))
    errors.add(r.node("timeout"), "alerts.telegram.timeout", "must be between 1s and 5m");
  t.retryMin = r.duration("retry_min", t.retryMin);
  t.retryMax = r.duration("retry_max", t.retryMax);
  if (t.retryMin < std::chrono::seconds(1))
    errors.add(r.node("retry_min"), "alerts.telegram.retry_min", "must be at least 1s");
  if (t.retryMax < t.retryMin)
    errors.add(r.node("retry_max"), "alerts.telegram.retry_max", "must not be below retry_min");
  t.expireAfter = r.duration("expire_after", t.expireAfter);
  if (t.expireAfter.count() > 0 && t.expireAfter < std::chrono::minutes(1))
    errors.add(r.node("expire_after"), "alerts.telegram.expire_after",
               "must be at least 1m (or 0s to retry forever)");
  t.sendInterval = r.duration("send_interval", t.sendInterval);
  if (t.sendInterval > std::chrono::minutes(1))
    errors.add(r.node("send_interval"), "alerts.telegram.send_interval", "must be at most 1m");

  YAML::Node chats = r.node("chats");
  if (!chats.IsDefined() || chats.IsNull() || !chats.IsSequence() || chats.size() == 0) {
    errors.add(chats.IsDefined() ? chats : node, "alerts.telegram.chats",
               "must be a non-empty list of {chat_id, min_severity, include_unknown}");
  } else {
    std::set<std::string> seen;
    for (size_t i = 0; i < chats.size(); ++i) {
      std::string path = indexPath("alerts.telegram.chats", i);
      MapReader c(chats[i], path, errors);
      if (!c.ok()) continue;
      TelegramChat chat;
      chat.chatId = c.optString("chat_id", true).value_or("");
      if (!chat.chatId.empty() && !validChatId(chat.chatId))
        errors.add(c.node("chat_id"), path + ".chat_id",
                   "must be a numeric chat id (e.g. -1001234567890) or @channelname");
      if (!chat.chatId.empty() && !seen.insert(chat.chatId).second)
        errors.add(c.node("chat_id"), path + ".chat_id", "duplicate chat");
      std::string min = c.str("min_severity", "warning");
      if (min == "warning")
        chat.minSeverity = Status::Warning;
      else if (min == "critical")
        chat.minSeverity = Status::Critical;
      else
        errors.add(c.node("min_severity"), path + ".min_severity", "must be warning or critical");
      chat.includeUnknown = c.boolean("include_unknown", chat.includeUnknown);
      c.finish();
      t.chats.push_back(std::move(chat));
    }
  }
  r.finish();
}

void parseRules(const YAML::Node& node, std::vector<AlertRuleConfig>& rules, ConfigErrors& errors) {
  if (!node.IsSequence()) {
    errors.add(node, "alerts.rules", "must be a list of rules {name, query, severity, every}");
    return;
  }
  std::set<std::string> names;
  for (size_t i = 0; i < node.size(); ++i) {
    std::string path = indexPath("alerts.rules", i);
    MapReader r(node[i], path, errors);
    if (!r.ok()) continue;
    AlertRuleConfig rule;
    rule.line = node[i].Mark().line + 1;
    rule.name = r.optString("name", true).value_or("");
    if (!rule.name.empty()) {
      path += "(" + rule.name + ")";
      if (!validRuleName(rule.name))
        errors.add(r.node("name"), path + ".name", "must match [a-z0-9][a-z0-9_-]* (max 64)");
      if (!names.insert(rule.name).second)
        errors.add(r.node("name"), path + ".name", "duplicate rule name");
    }
    rule.query = r.optString("query", true).value_or("");
    std::string severity = r.str("severity", "warning");
    auto s = parseStatus(severity);
    if (!s || *s == Status::Ok)
      errors.add(r.node("severity"), path + ".severity", "must be warning, critical or unknown");
    else
      rule.severity = *s;
    rule.every = r.duration("every", rule.every);
    if (rule.every < std::chrono::seconds(1))
      errors.add(r.node("every"), path + ".every", "must be at least 1s");
    rule.timeout = r.duration("timeout", rule.timeout);
    if (rule.timeout < std::chrono::milliseconds(10) || rule.timeout > std::chrono::minutes(1))
      errors.add(r.node("timeout"), path + ".timeout", "must be between 10ms and 1m");
    r.finish();
    rules.push_back(std::move(rule));
  }
}

}  // namespace

void parseAlertsConfig(const YAML::Node& node, AlertsConfig& out, ConfigErrors& errors,
                       bool resolveSecrets) {
  char host[256] = {0};
  if (gethostname(host, sizeof host - 1) == 0) out.host = host;
  if (!node.IsDefined() || node.IsNull()) return;
  MapReader r(node, "alerts", errors);
  if (!r.ok()) return;
  out.host = r.str("host", out.host);
  YAML::Node policy = r.node("policy");
  if (policy.IsDefined() && !policy.IsNull()) {
    MapReader p(policy, "alerts.policy", errors);
    if (p.ok()) {
      readPolicy(p, out.policy);
      p.finish();
    }
  }
  YAML::Node telegram = r.node("telegram");
  if (telegram.IsDefined() && !telegram.IsNull())
    parseTelegram(telegram, out.telegram, errors, resolveSecrets);
  YAML::Node rules = r.node("rules");
  if (rules.IsDefined() && !rules.IsNull()) parseRules(rules, out.rules, errors);
  r.finish();
}

JobAlertConfig parseJobAlerts(const YAML::Node& node, const std::string& path,
                              const AlertPolicy& defaults, ConfigErrors& errors) {
  JobAlertConfig out;
  out.policy = defaults;
  if (!node.IsDefined() || node.IsNull()) return out;
  MapReader r(node, path, errors);
  if (!r.ok()) return out;
  out.enabled = r.boolean("enabled", true);
  readPolicy(r, out.policy);
  r.finish();
  return out;
}

}  // namespace mxpulse
