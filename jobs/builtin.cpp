// SPDX-License-Identifier: Apache-2.0
// The explicit list of every job kind and ad hoc check. Adding a kind means
// one line here (no static-initialisation tricks), so the list can be read
// and grepped, and config validation always agrees with it.
#include <algorithm>
#include <iterator>

#include "agent/adhoc.hpp"
#include "agent/job.hpp"
#include "jobs/dns_auth.hpp"
#include "jobs/dnsbl.hpp"
#include "jobs/host.hpp"
#include "jobs/dlq_depth.hpp"
#include "jobs/oauth_expiry.hpp"
#include "jobs/plumb_adhoc.hpp"
#include "jobs/pmta.hpp"
#include "jobs/warmup.hpp"
#include "jobs/tls_expiry.hpp"

namespace mxpulse {

void registerBuiltinJobs(JobRegistry& registry) {
  registry.add(jobs::hostKind());
  registry.add(jobs::dnsAuthKind());
  registry.add(jobs::dnsblKind());
  registry.add(jobs::pmtaKind());
  registry.add(jobs::oauthExpiryKind());
  registry.add(jobs::dlqDepthKind());
  registry.add(jobs::warmupKind());
  registry.add(jobs::tlsExpiryKind());
}

void registerBuiltinAdHocChecks(AdHocRegistry& registry) {
  for (auto& check : jobs::dnsAuthAdHocChecks()) registry.add(std::move(check));
  registry.add(jobs::dnsblAdHocCheck());
  registry.add(jobs::pmtaAdHocCheck());
  registry.add(jobs::oauthAdHocCheck());
  registry.add(jobs::dlqAdHocCheck());
  registry.add(AdHocCheck{
      "tls", "tls_expiry",
      "tls HOST:PORT... [--starttls smtp|imap|pop3|none] [--sni NAME] [--cafile FILE] "
      "[--file PEM]... [--warn-days N] [--crit-days N] [--ehlo NAME] [--timeout 30s]",
      {},
      [](const AdHocArgs& args, YAML::Node& params, std::string& error) {
        for (const auto& [flag, values] : args.options) {
          static const char* known[] = {"starttls", "sni",       "cafile", "file",
                                        "warn-days", "crit-days", "ehlo",   "timeout"};
          if (std::none_of(std::begin(known), std::end(known),
                           [&](const char* k) { return flag == k; })) {
            error = "unknown option --" + flag;
            return false;
          }
        }
        if (args.positional.empty() && !args.has("file")) {
          error = "give at least one HOST:PORT (or --file PEM)";
          return false;
        }
        for (const auto& endpoint : args.positional) {
          YAML::Node e(YAML::NodeType::Map);
          e["endpoint"] = endpoint;
          if (args.has("starttls")) e["starttls"] = args.get("starttls");
          if (args.has("sni")) e["sni"] = args.get("sni");
          params["endpoints"].push_back(e);
        }
        for (const auto& f : args.all("file")) params["files"].push_back(f);
        if (args.has("cafile")) params["ca_file"] = args.get("cafile");
        if (args.has("warn-days")) params["warn_days"] = args.get("warn-days");
        if (args.has("crit-days")) params["crit_days"] = args.get("crit-days");
        if (args.has("ehlo")) params["ehlo_name"] = args.get("ehlo");
        return true;
      }});
  registry.add(AdHocCheck{
      "host", "host", "host [--disk PATH]... [--process NAME]...", {},
      [](const AdHocArgs& args, YAML::Node& params, std::string& error) {
        if (!args.positional.empty()) {
          error = "unexpected argument '" + args.positional.front() + "'";
          return false;
        }
        for (const auto& d : args.all("disk")) params["disks"].push_back(d);
        for (const auto& p : args.all("process")) params["processes"].push_back(p);
        return true;
      }});
}

}  // namespace mxpulse
