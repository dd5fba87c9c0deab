// SPDX-License-Identifier: Apache-2.0
#include "jobs/plumb_adhoc.hpp"

#include <algorithm>
#include <initializer_list>
#include <set>

namespace mxpulse::jobs {

namespace {

/// Rejects flags outside `known` (plus the framework's --timeout).
bool onlyKnown(const AdHocArgs& args, std::initializer_list<const char*> known,
               std::string& error) {
  for (const auto& [flag, values] : args.options) {
    if (flag == "timeout") continue;
    if (std::none_of(known.begin(), known.end(), [&](const char* k) { return flag == k; })) {
      error = "unknown option --" + flag;
      return false;
    }
  }
  return true;
}

/// --NAME-env VAR -> key: ${VAR}; --NAME-file PATH -> key_file: PATH.
bool secretArgs(const AdHocArgs& args, const std::string& flag, const std::string& key,
                YAML::Node& target, std::string& error) {
  bool env = args.has(flag + "-env"), file = args.has(flag + "-file");
  if (env && file) {
    error = "give --" + flag + "-env or --" + flag + "-file, not both";
    return false;
  }
  if (env) target[key] = "${" + args.get(flag + "-env") + "}";
  if (file) target[key + "_file"] = args.get(flag + "-file");
  return true;
}

/// --flag VALUE -> params[key] when given.
void copy(const AdHocArgs& args, YAML::Node& params,
          std::initializer_list<std::pair<const char*, const char*>> pairs) {
  for (const auto& [flag, key] : pairs)
    if (args.has(flag)) params[key] = args.get(flag);
}

}  // namespace

AdHocCheck pmtaAdHocCheck() {
  return AdHocCheck{
      "pmta",
      "pmta",
      "pmta [URL] [--user USER (--password-env VAR | --password-file FILE)] [--cli PATH] "
      "[--no-cli] [--domain D]... [--vmta V]... [--queue-warn N] [--queue-crit N] "
      "[--domain-queue-warn N] [--domain-queue-crit N] [--oldest-warn 6h] [--oldest-crit 24h] "
      "[--timeout 30s]",
      {"no-cli"},
      [](const AdHocArgs& args, YAML::Node& params, std::string& error) {
        if (!onlyKnown(args,
                       {"user", "password-env", "password-file", "cli", "no-cli", "domain", "vmta",
                        "queue-warn", "queue-crit", "domain-queue-warn", "domain-queue-crit",
                        "oldest-warn", "oldest-crit"},
                       error))
          return false;
        if (args.positional.size() > 1) {
          error = "give at most one URL";
          return false;
        }
        if (!args.positional.empty()) params["url"] = args.positional.front();
        copy(args, params,
             {{"user", "user"},
              {"queue-warn", "queue_warn"},
              {"queue-crit", "queue_crit"},
              {"domain-queue-warn", "domain_queue_warn"},
              {"domain-queue-crit", "domain_queue_crit"},
              {"oldest-warn", "oldest_warn"},
              {"oldest-crit", "oldest_crit"}});
        if (!secretArgs(args, "password", "password", params, error)) return false;
        if (args.has("cli")) params["pmta_command"].push_back(args.get("cli"));
        if (args.has("no-cli")) params["cli_fallback"] = false;
        for (const auto& d : args.all("domain")) params["domains"].push_back(d);
        for (const auto& v : args.all("vmta")) params["vmtas"].push_back(v);
        return true;
      }};
}

AdHocCheck oauthAdHocCheck() {
  return AdHocCheck{
      "oauth",
      "oauth_expiry",
      "oauth [--token-json FILE]... [--jwt-file FILE]... [--jwt-env VAR]... [--live-probe] "
      "[--token-endpoint URL] [--production] [--warn-before 24h] [--crit-before 6h] "
      "[--timeout 30s]",
      {"live-probe", "production"},
      [](const AdHocArgs& args, YAML::Node& params, std::string& error) {
        if (!onlyKnown(args,
                       {"token-json", "jwt-file", "jwt-env", "live-probe", "token-endpoint",
                        "production", "warn-before", "crit-before"},
                       error))
          return false;
        if (!args.positional.empty()) {
          error = "unexpected argument '" + args.positional.front() + "'";
          return false;
        }
        copy(args, params, {{"warn-before", "warn_before"}, {"crit-before", "crit_before"}});
        auto baseName = [](const std::string& path) {
          size_t slash = path.find_last_of('/');
          return slash == std::string::npos ? path : path.substr(slash + 1);
        };
        std::set<std::string> names;
        auto add = [&](const char* key, const std::string& value, const std::string& name) {
          YAML::Node t(YAML::NodeType::Map);
          // Names must be unique: fall back to the full path on a clash.
          t["name"] = names.insert(name).second ? name : value;
          t[key] = value;
          if (std::string(key) == "token_json") {
            if (args.has("live-probe")) t["live_probe"] = true;
            if (args.has("token-endpoint")) t["token_endpoint"] = args.get("token-endpoint");
            if (args.has("production")) t["testing_app"] = false;
          }
          params["tokens"].push_back(t);
        };
        for (const auto& f : args.all("token-json")) add("token_json", f, baseName(f));
        for (const auto& f : args.all("jwt-file")) add("jwt_file", f, baseName(f));
        for (const auto& v : args.all("jwt-env")) add("jwt_env", v, v);
        if (!params["tokens"]) {
          error = "give at least one --token-json, --jwt-file or --jwt-env";
          return false;
        }
        return true;
      }};
}

AdHocCheck dlqAdHocCheck() {
  return AdHocCheck{
      "dlq",
      "dlq_depth",
      "dlq QUEUE_URL... [--protocol json|query] [--endpoint URL] [--region R] [--profile P] "
      "[--credentials-file FILE] | dlq --sqlite FILE --query SQL; [--warn-messages N] "
      "[--crit-messages N] [--crit-age 1h] [--timeout 30s]  (AWS keys: environment or profile)",
      {},
      [](const AdHocArgs& args, YAML::Node& params, std::string& error) {
        if (!onlyKnown(args,
                       {"protocol", "endpoint", "region", "profile", "credentials-file", "sqlite",
                        "query", "warn-messages", "crit-messages", "crit-age"},
                       error))
          return false;
        copy(args, params,
             {{"warn-messages", "warn_messages"},
              {"crit-messages", "crit_messages"},
              {"crit-age", "crit_age"}});
        if (args.has("sqlite") != args.has("query")) {
          error = "--sqlite and --query go together";
          return false;
        }
        if (args.has("sqlite")) {
          YAML::Node q(YAML::NodeType::Map);
          q["name"] = "sql";
          q["sqlite_path"] = args.get("sqlite");
          q["query"] = args.get("query");
          params["queues"].push_back(q);
        }
        for (const auto& url : args.positional) {
          YAML::Node q(YAML::NodeType::Map);
          std::string name = url;
          while (!name.empty() && name.back() == '/') name.pop_back();
          q["name"] = name.substr(name.find_last_of('/') + 1);
          q["queue_url"] = url;
          copy(args, q,
               {{"protocol", "protocol"},
                {"endpoint", "endpoint"},
                {"region", "region"},
                {"profile", "profile"},
                {"credentials-file", "credentials_file"}});
          params["queues"].push_back(q);
        }
        if (!params["queues"]) {
          error = "give a QUEUE_URL or --sqlite FILE --query SQL";
          return false;
        }
        return true;
      }};
}

}  // namespace mxpulse::jobs
