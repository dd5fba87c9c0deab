// SPDX-License-Identifier: Apache-2.0
#include "jobs/plumb_adhoc.hpp"

#include <algorithm>
#include <initializer_list>

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

}  // namespace mxpulse::jobs
