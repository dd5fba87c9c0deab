// SPDX-License-Identifier: Apache-2.0
#include "agent/extension.hpp"

#include <dlfcn.h>
#include <limits.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>

#include "agent/job.hpp"
#include "agent/log.hpp"

// Defined by jobs/extension_entry.cpp: in mxpulse-ext.so, or linked into a
// program (the tests) that carries the module's code itself.
extern "C" const mxpulse::ExtensionApi* mxpulse_extension_v1() __attribute__((weak));

namespace mxpulse {

namespace {

std::once_flag loadOnce;
const ExtensionApi* loaded = nullptr;
std::atomic<bool> mapped{false};
std::string loadError;

std::string binaryDir() {
  char buf[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return ".";
  std::string path(buf, static_cast<size_t>(n));
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash);
}

std::vector<std::string> candidates() {
  if (const char* env = std::getenv("MXPULSE_EXTENSION"); env && *env) return {env};
  std::string dir = binaryDir();
  return {dir + "/mxpulse-ext.so", dir + "/../lib/mxpulse/mxpulse-ext.so"};
}

void load() {
  using Entry = const ExtensionApi* (*)();
  Entry entry = mxpulse_extension_v1;
  std::string where = "linked in";
  if (!entry) {
    std::string tried;
    for (const auto& path : candidates()) {
      if (access(path.c_str(), F_OK) != 0) {
        tried += (tried.empty() ? "" : ", ") + path;
        continue;
      }
      // RTLD_NOW: a module from another build fails here, with the missing
      // symbol named, instead of in the middle of a run.
      void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (!handle) {
        loadError = std::string("cannot load ") + dlerror() +
                    " (reinstall mxpulse: the binary and mxpulse-ext.so must come from one build)";
        return;
      }
      entry = reinterpret_cast<Entry>(dlsym(handle, "mxpulse_extension_v1"));
      if (!entry) {
        loadError = path + " is not an mxpulse extension (no mxpulse_extension_v1)";
        return;
      }
      where = path;
      break;
    }
    if (!entry) {
      loadError = "mxpulse-ext.so not found (tried " + tried +
                  "; install it beside the binary, in ../lib/mxpulse/, or set MXPULSE_EXTENSION)";
      return;
    }
  }
  const ExtensionApi* api = entry();
  if (!api || api->abi != kExtensionAbi) {
    loadError = where + " is from another mxpulse build (interface " +
                std::to_string(api ? api->abi : 0) + ", expected " + std::to_string(kExtensionAbi) +
                "); reinstall mxpulse";
    return;
  }
  loaded = api;
  mapped = true;
  log::debug("extension loaded " + log::kv("from", where));
}

}  // namespace

const ExtensionApi* loadExtension(std::string& error) {
  std::call_once(loadOnce, load);
  if (!loaded) error = loadError;
  return loaded;
}

bool extensionLoaded() {
  return mapped;
}

namespace ext {

const std::vector<std::string>& jobKindNames() {
  static const std::vector<std::string> names{"dlq_depth", "dns_auth",   "dnsbl", "oauth_expiry",
                                              "pmta",      "tls_expiry", "warmup"};
  return names;
}

const JobKind* jobKind(const std::string& name, std::string& error) {
  static std::once_flag once;
  static JobRegistry registry;
  const ExtensionApi* api = loadExtension(error);
  if (!api) return nullptr;
  std::call_once(once, [&] { api->registerJobs(registry); });
  const JobKind* kind = registry.find(name);
  if (!kind) error = "job kind " + name + " is missing from the extension";
  return kind;
}

probes::TelegramSend telegramSendMessage(const probes::TelegramEndpoint& endpoint,
                                         const std::string& chatId, const std::string& text,
                                         const std::string& parseMode, Deadline deadline) {
  std::string error;
  const ExtensionApi* api = loadExtension(error);
  if (api) return api->telegramSendMessage(endpoint, chatId, text, parseMode, deadline);
  probes::TelegramSend failed;
  failed.outcome = probes::TelegramSend::Outcome::NetworkError;
  failed.description = error;
  return failed;
}

probes::SqlRows mysqlQueryReadOnly(const probes::MysqlParams& params, const std::string& query,
                                   Deadline deadline) {
  std::string error;
  const ExtensionApi* api = loadExtension(error);
  if (api) return api->mysqlQueryReadOnly(params, query, deadline);
  probes::SqlRows failed;
  failed.error = error;
  return failed;
}

}  // namespace ext

}  // namespace mxpulse
