// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the test tiers: temp directories, files, child
// processes with deadlines, and the skip convention (exit 77 = skipped).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace mxpulse::test {

/// A fresh directory under $TMPDIR, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

void writeFile(const std::string& path, const std::string& content);
std::string readFile(const std::string& path);
bool fileExists(const std::string& path);

struct ProcessResult {
  int exitCode = -1;  ///< -1 if killed by the deadline
  std::string out, err;
};

/// Runs argv (no shell) with extra environment, waits at most `timeout`.
ProcessResult runProcess(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env = {},
                         std::chrono::milliseconds timeout = std::chrono::seconds(60));

/// A background child whose stdout/stderr go to files.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const std::string& logPath,
        const std::map<std::string, std::string>& env = {});
  ~Child();
  int pid() const { return pid_; }
  void signal(int sig);
  /// Waits for exit; returns the exit code, or -1 on timeout, -2 if killed by a signal.
  int wait(std::chrono::milliseconds timeout);
  bool running();

 private:
  int pid_ = -1;
  int status_ = 0;
  bool reaped_ = false;
};

/// Polls `pred` every 20 ms until true or `timeout`.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    struct timespec ts {0, 20 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
  return pred();
}

/// Ends the test program with 77 (CTest "skipped") when `ok` is false.
void skipUnless(bool ok, const std::string& why);
/// Value of an environment variable, or "" if unset.
std::string env(const char* name);
/// The public conformance data (MXPULSE_SUITES_DIR, else ../shared/suites
/// beside the checkout); "" if absent.
std::string suitesDir();
/// Path of the mxpulse source tree.
std::string sourceDir();
/// Path of the built mxpulse binary.
std::string binary();
/// Full path of a program on PATH or in /usr/sbin, /usr/bin; "" if absent.
std::string findProgram(const std::string& name);
/// A TCP port on 127.0.0.1 that was free a moment ago.
int freePort();
/// Plain HTTP GET http://127.0.0.1:port/path; returns the body ("" on failure).
std::string httpGet(int port, const std::string& path, int* status = nullptr);

}  // namespace mxpulse::test
