// SPDX-License-Identifier: Apache-2.0
#include "probes/bounded_exec.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

extern char** environ;

namespace mxpulse::probes {

namespace {
constexpr size_t kMaxStderr = 4096;
}

ExecResult runBounded(const std::vector<std::string>& argv, Deadline deadline,
                      size_t maxOutputBytes) {
  ExecResult r;
  if (argv.empty()) {
    r.error = "empty command";
    return r;
  }
  int outPipe[2], errPipe[2];
  if (pipe2(outPipe, O_CLOEXEC) != 0) {
    r.error = std::string("pipe: ") + std::strerror(errno);
    return r;
  }
  if (pipe2(errPipe, O_CLOEXEC) != 0) {
    r.error = std::string("pipe: ") + std::strerror(errno);
    ::close(outPipe[0]);
    ::close(outPipe[1]);
    return r;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1);
  posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(outPipe[1]);
  ::close(errPipe[1]);
  if (rc != 0) {
    r.error = "cannot run " + argv[0] + ": " + std::strerror(rc);
    ::close(outPipe[0]);
    ::close(errPipe[0]);
    return r;
  }
  r.started = true;
  bool outOpen = true, errOpen = true, killed = false;
  while ((outOpen || errOpen) && !killed) {
    if (deadline.expired()) {
      r.timedOut = true;
      break;
    }
    pollfd fds[2] = {{outOpen ? outPipe[0] : -1, POLLIN, 0},
                     {errOpen ? errPipe[0] : -1, POLLIN, 0}};
    int n = ::poll(fds, 2, std::max(1, std::min(deadline.remainingMs(), 1000)));
    if (n < 0 && errno != EINTR) break;
    char buf[8192];
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got <= 0) {
        (i == 0 ? outOpen : errOpen) = false;
        continue;
      }
      if (i == 0) {
        r.out.append(buf, static_cast<size_t>(got));
        if (r.out.size() > maxOutputBytes) {
          r.out.resize(maxOutputBytes);
          r.truncated = killed = true;
        }
      } else if (r.err.size() < kMaxStderr) {
        r.err.append(buf, std::min(static_cast<size_t>(got), kMaxStderr - r.err.size()));
      }
    }
  }
  ::close(outPipe[0]);
  ::close(errPipe[0]);
  int status = 0;
  if (r.timedOut || killed) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  } else {
    // Both pipes closed; the child is exiting. Wait, but not past the deadline.
    while (true) {
      pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid) break;
      if (w < 0 && errno != EINTR) break;
      if (deadline.expired()) {
        r.timedOut = true;
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        break;
      }
      ::usleep(5000);
    }
  }
  if (r.timedOut) {
    r.error = argv[0] + " did not finish by the deadline";
  } else if (r.truncated) {
    r.error = argv[0] + " printed more than " + std::to_string(maxOutputBytes) + " bytes";
  } else if (WIFEXITED(status)) {
    r.exitCode = WEXITSTATUS(status);
    if (r.exitCode != 0) r.error = argv[0] + " exited with status " + std::to_string(r.exitCode);
  } else if (WIFSIGNALED(status)) {
    r.error = argv[0] + " was killed by signal " + std::to_string(WTERMSIG(status));
  }
  return r;
}

}  // namespace mxpulse::probes
