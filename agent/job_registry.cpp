// SPDX-License-Identifier: Apache-2.0
#include <stdexcept>

#include "agent/job.hpp"

namespace mxpulse {

void JobRegistry::add(JobKind kind) {
  std::string name = kind.name;
  if (!kinds_.emplace(name, std::move(kind)).second)
    throw std::logic_error("job kind registered twice: " + name);
}

const JobKind* JobRegistry::find(const std::string& name) const {
  auto it = kinds_.find(name);
  return it == kinds_.end() ? nullptr : &it->second;
}

std::vector<std::string> JobRegistry::names() const {
  std::vector<std::string> out;
  for (const auto& kv : kinds_) out.push_back(kv.first);
  return out;
}

}  // namespace mxpulse
