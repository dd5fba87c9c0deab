// SPDX-License-Identifier: Apache-2.0
#include "agent/adhoc.hpp"

#include <algorithm>
#include <stdexcept>

namespace mxpulse {

std::string AdHocArgs::get(const std::string& flag, const std::string& fallback) const {
  auto it = options.find(flag);
  return it == options.end() || it->second.empty() ? fallback : it->second.back();
}

const std::vector<std::string>& AdHocArgs::all(const std::string& flag) const {
  static const std::vector<std::string> empty;
  auto it = options.find(flag);
  return it == options.end() ? empty : it->second;
}

bool parseAdHocArgs(const std::vector<std::string>& args, const std::vector<std::string>& switches,
                    AdHocArgs& out, std::string& error) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
      std::string flag = a.substr(2);
      std::string value;
      size_t eq = flag.find('=');
      if (eq != std::string::npos) {
        value = flag.substr(eq + 1);
        flag = flag.substr(0, eq);
      } else if (std::find(switches.begin(), switches.end(), flag) != switches.end()) {
        value = "true";
      } else {
        if (i + 1 >= args.size()) {
          error = "--" + flag + " needs a value";
          return false;
        }
        value = args[++i];
      }
      out.options[flag].push_back(value);
    } else {
      out.positional.push_back(a);
    }
  }
  return true;
}

void AdHocRegistry::add(AdHocCheck check) {
  std::string name = check.name;
  if (!checks_.emplace(name, std::move(check)).second)
    throw std::logic_error("ad hoc check registered twice: " + name);
}

const AdHocCheck* AdHocRegistry::find(const std::string& name) const {
  auto it = checks_.find(name);
  return it == checks_.end() ? nullptr : &it->second;
}

}  // namespace mxpulse
