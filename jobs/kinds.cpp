// SPDX-License-Identifier: Apache-2.0
#include "jobs/kinds.hpp"

#include "agent/extension.hpp"
#include "agent/job.hpp"
#include "agent/yaml_reader.hpp"
#include "jobs/host.hpp"

namespace mxpulse {

namespace {

JobKind lazyKind(const std::string& name) {
  return JobKind{name, "(in mxpulse-ext.so)",
                 [name](MapReader& params, const JobBuildEnv& env) -> std::unique_ptr<Job> {
                   std::string error;
                   const JobKind* real = ext::jobKind(name, error);
                   if (real) return real->create(params, env);
                   params.errors().add(params.self(), params.path(),
                                       "job kind '" + name + "' is unavailable: " + error);
                   // The params are not at fault: do not also call every key unknown.
                   if (params.self().IsMap())
                     for (const auto& kv : params.self()) params.node(kv.first.as<std::string>());
                   return nullptr;
                 }};
}

}  // namespace

void registerJobKinds(JobRegistry& registry) {
  registry.add(jobs::hostKind());
  for (const auto& name : ext::jobKindNames()) registry.add(lazyKind(name));
}

}  // namespace mxpulse
