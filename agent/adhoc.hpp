// SPDX-License-Identifier: Apache-2.0
// `mxpulse check NAME ARGS...`: one-off checks without a config file. Each
// ad hoc check turns its arguments into the `params` of a job kind, so it
// runs exactly the code the scheduled job runs.
#pragma once

#include <yaml-cpp/yaml.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace mxpulse {

/// Arguments split into positionals and `--flag value` options (a flag may
/// repeat). Flags listed in `switches` take no value.
struct AdHocArgs {
  std::vector<std::string> positional;
  std::map<std::string, std::vector<std::string>> options;

  bool has(const std::string& flag) const { return options.count(flag) > 0; }
  std::string get(const std::string& flag, const std::string& fallback = "") const;
  const std::vector<std::string>& all(const std::string& flag) const;
};

/// Returns false with `error` on a flag missing its value.
bool parseAdHocArgs(const std::vector<std::string>& args, const std::vector<std::string>& switches,
                    AdHocArgs& out, std::string& error);

struct AdHocCheck {
  std::string name;   ///< e.g. "spf"
  std::string kind;   ///< the job kind that runs it, e.g. "dns_auth"
  std::string usage;  ///< e.g. "spf DOMAIN --ip IP [--resolver HOST:PORT]"
  std::vector<std::string> switches;  ///< flags without values
  /// Builds the job's params; false with `error` on bad arguments.
  std::function<bool(const AdHocArgs& args, YAML::Node& params, std::string& error)> toParams;
};

class AdHocRegistry {
 public:
  void add(AdHocCheck check);
  const AdHocCheck* find(const std::string& name) const;
  const std::map<std::string, AdHocCheck>& all() const { return checks_; }

 private:
  std::map<std::string, AdHocCheck> checks_;
};

/// Defined in jobs/builtin.cpp next to registerBuiltinJobs().
void registerBuiltinAdHocChecks(AdHocRegistry& registry);

}  // namespace mxpulse
