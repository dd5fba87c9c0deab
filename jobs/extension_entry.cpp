// SPDX-License-Identifier: Apache-2.0
// The one symbol mxpulse-ext.so exports: its table of entry points (see
// agent/extension.hpp). The binary finds it with dlsym(); test programs
// link this file and the module's code, and extension() uses it directly.
#include "agent/adhoc.hpp"
#include "agent/extension.hpp"
#include "agent/job.hpp"
#include "jobs/warmup_cli.hpp"
#include "probes/mysql_client.hpp"
#include "probes/telegram.hpp"

extern "C" __attribute__((visibility("default"))) const mxpulse::ExtensionApi*
mxpulse_extension_v1() {
  static const mxpulse::ExtensionApi api{
      mxpulse::kExtensionAbi,
      mxpulse::registerBuiltinJobs,
      mxpulse::registerBuiltinAdHocChecks,
      mxpulse::jobs::ipCommand,
      mxpulse::probes::telegramSendMessage,
      mxpulse::probes::mysqlQueryReadOnly,
  };
  return &api;
}
