// SPDX-License-Identifier: Apache-2.0
// `mxpulse check spf|dkim|dmarc|mx|ptr|mta-sts ...`: each builds dns_auth
// params for one target, so the ad hoc check runs the scheduled job's code.
#include <algorithm>

#include "jobs/dns_auth.hpp"

namespace mxpulse::jobs {

namespace {

using Build = std::function<bool(const AdHocArgs&, YAML::Node&, std::string&)>;

/// Rejects options outside `allowed` (plus the common ones) and wrong
/// positional counts, adds --resolver and the check list.
AdHocCheck make(const std::string& name, const std::string& usage, std::vector<std::string> checks,
                std::vector<std::string> allowed, Build build) {
  allowed.insert(allowed.end(), {"resolver", "timeout", "dns-timeout"});
  return AdHocCheck{
      name,
      "dns_auth",
      usage + " [--resolver HOST:PORT]... [--timeout 30s]",
      {},
      [checks, allowed, build](const AdHocArgs& args, YAML::Node& params, std::string& error) {
        for (const auto& [flag, values] : args.options) {
          if (std::find(allowed.begin(), allowed.end(), flag) == allowed.end()) {
            error = "unknown option --" + flag;
            return false;
          }
        }
        if (args.positional.size() != 1) {
          error = args.positional.empty() ? "missing argument" : "give exactly one target";
          return false;
        }
        for (const auto& c : checks) params["checks"].push_back(c);
        for (const auto& r : args.all("resolver")) params["resolvers"].push_back(r);
        if (args.has("dns-timeout")) params["dns_timeout"] = args.get("dns-timeout");
        return build(args, params, error);
      }};
}

YAML::Node domainItem(const AdHocArgs& args) {
  YAML::Node d(YAML::NodeType::Map);
  d["domain"] = args.positional.front();
  return d;
}

}  // namespace

std::vector<AdHocCheck> dnsAuthAdHocChecks() {
  std::vector<AdHocCheck> out;
  out.push_back(make("spf", "spf DOMAIN [--ip IP]... [--helo NAME]", {"spf"}, {"ip", "helo"},
                     [](const AdHocArgs& args, YAML::Node& params, std::string&) {
                       YAML::Node d = domainItem(args);
                       for (const auto& ip : args.all("ip")) d["ips"].push_back(ip);
                       if (args.has("helo")) d["helo"] = args.get("helo");
                       params["domains"].push_back(d);
                       return true;
                     }));
  out.push_back(make("dkim", "dkim DOMAIN --selector S [--selector S]...", {"dkim"}, {"selector"},
                     [](const AdHocArgs& args, YAML::Node& params, std::string& error) {
                       if (!args.has("selector")) {
                         error = "give --selector";
                         return false;
                       }
                       YAML::Node d = domainItem(args);
                       for (const auto& s : args.all("selector")) d["dkim_selectors"].push_back(s);
                       params["domains"].push_back(d);
                       return true;
                     }));
  for (const char* c : {"dmarc", "mx"}) {
    out.push_back(make(c, std::string(c) + " DOMAIN", {c}, {},
                       [](const AdHocArgs& args, YAML::Node& params, std::string&) {
                         params["domains"].push_back(domainItem(args));
                         return true;
                       }));
  }
  out.push_back(make("ptr", "ptr IP [--helo NAME]", {"ptr"}, {"helo"},
                     [](const AdHocArgs& args, YAML::Node& params, std::string&) {
                       YAML::Node ip(YAML::NodeType::Map);
                       ip["ip"] = args.positional.front();
                       if (args.has("helo")) ip["helo"] = args.get("helo");
                       params["ips"].push_back(ip);
                       return true;
                     }));
  out.push_back(make("mta-sts", "mta-sts DOMAIN [--port N] [--cafile FILE]", {"mta_sts", "tls_rpt"},
                     {"port", "cafile"},
                     [](const AdHocArgs& args, YAML::Node& params, std::string&) {
                       params["domains"].push_back(domainItem(args));
                       if (args.has("port")) params["mta_sts_port"] = args.get("port");
                       if (args.has("cafile")) params["mta_sts_ca_file"] = args.get("cafile");
                       return true;
                     }));
  return out;
}

}  // namespace mxpulse::jobs
