// SPDX-License-Identifier: Apache-2.0
// The job kinds as the mxpulse binary registers them: `host` in-process,
// every other kind as a stand-in that loads mxpulse-ext.so (see
// agent/extension.hpp) the first time a job of that kind is built. The full
// list, with every kind's real factory, is registerBuiltinJobs() in
// jobs/builtin.cpp, which lives in the module.
#pragma once

namespace mxpulse {

class JobRegistry;

void registerJobKinds(JobRegistry& registry);

}  // namespace mxpulse
