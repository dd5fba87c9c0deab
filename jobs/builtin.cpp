// SPDX-License-Identifier: Apache-2.0
// The explicit list of every job kind and ad hoc check. Adding a kind means
// one line here (no static-initialisation tricks), so the list can be read
// and grepped, and config validation always agrees with it.
#include "agent/adhoc.hpp"
#include "agent/job.hpp"
#include "jobs/host.hpp"

namespace mxpulse {

void registerBuiltinJobs(JobRegistry& registry) { registry.add(jobs::hostKind()); }

void registerBuiltinAdHocChecks(AdHocRegistry& registry) {
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
