// SPDX-License-Identifier: Apache-2.0
// The lazily loaded half of mxpulse.
//
// Everything that needs the big shared libraries (the DNS engine and its
// jobs on ldns, TLS and HTTPS on OpenSSL, HTTP/JSON/XML on Poco, MySQL on
// MariaDB Connector/C) is built into mxpulse-ext.so, not into the mxpulse
// binary. The binary (config, scheduler, store, outputs, the host job)
// loads it with dlopen() the first time it is needed: a job of such a kind
// is configured, a Telegram message goes out, an inventory query runs on
// MySQL, or an ad hoc check or `ip` command is run. An idle agent that
// needs none of it never maps OpenSSL or Poco (scripts/bench-idle.sh).
//
// The module resolves the framework's symbols from the binary (which
// exports them) and hands back one table of entry points. Test programs
// link the module's code statically; extension() then uses that copy.
#pragma once

#include <string>
#include <vector>

#include "probes/deadline.hpp"
#include "probes/mysql_client.hpp"
#include "probes/sql_rows.hpp"
#include "probes/telegram.hpp"

namespace mxpulse {

class JobRegistry;
class AdHocRegistry;
struct JobKind;

/// What mxpulse-ext.so provides. Bump kExtensionAbi on any change here: a
/// binary and a module from different builds then refuse each other.
struct ExtensionApi {
  int abi;
  void (*registerJobs)(JobRegistry& registry);
  void (*registerAdHocChecks)(AdHocRegistry& registry);
  int (*ipCommand)(const std::string& configPath, const std::vector<std::string>& args, bool json);
  probes::TelegramSend (*telegramSendMessage)(const probes::TelegramEndpoint& endpoint,
                                              const std::string& chatId, const std::string& text,
                                              const std::string& parseMode, Deadline deadline);
  probes::SqlRows (*mysqlQueryReadOnly)(const probes::MysqlParams& params, const std::string& query,
                                        Deadline deadline);
};
constexpr int kExtensionAbi = 1;

/// Loads the module once (thread-safe) and returns its table; nullptr with
/// `error` (which file was tried, why, and what to do) when it cannot be
/// loaded. The module is found at $MXPULSE_EXTENSION, else next to the
/// binary, else in ../lib/mxpulse/ relative to it.
const ExtensionApi* loadExtension(std::string& error);
/// True once the module is mapped (or linked in).
bool extensionLoaded();

namespace ext {
/// The job kinds that live in the module, by name (the binary's lazy
/// registry lists them without loading it). Kept equal to the module's
/// own list by tests/unit/extension_test.cpp.
const std::vector<std::string>& jobKindNames();
/// The module's kind `name`; nullptr with `error` if it cannot be loaded.
const JobKind* jobKind(const std::string& name, std::string& error);

// The module's entry points for the framework's own use. A module that
// cannot be loaded turns into the usual failure value of each call.
probes::TelegramSend telegramSendMessage(const probes::TelegramEndpoint& endpoint,
                                         const std::string& chatId, const std::string& text,
                                         const std::string& parseMode, Deadline deadline);
probes::SqlRows mysqlQueryReadOnly(const probes::MysqlParams& params, const std::string& query,
                                   Deadline deadline);
}  // namespace ext

}  // namespace mxpulse
