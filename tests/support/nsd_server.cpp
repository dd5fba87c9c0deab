// SPDX-License-Identifier: Apache-2.0
#include "tests/support/nsd_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

namespace mxpulse::test {

namespace {

const char* const kNsdPaths[] = {"/usr/sbin/nsd", "/usr/local/sbin/nsd"};

std::string nsdBinary() {
  for (const char* p : kNsdPaths)
    if (access(p, X_OK) == 0) return p;
  return "";
}

std::string zoneFileText(const std::string& zone, const std::string& text) {
  std::string out = "$ORIGIN " + zone + ".\n$TTL 300\n";
  if (text.find("SOA") == std::string::npos) {
    out += "@ IN SOA ns." + zone + ". hostmaster." + zone + ". 1 3600 600 86400 60\n";
    out += "@ IN NS ns." + zone + ".\n";
    out += "ns." + zone + ". IN A 127.0.0.1\n";
  }
  out += text;
  if (out.back() != '\n') out += '\n';
  return out;
}

/// The file name NSD reads a zone from (zone names may hold odd characters).
std::string zoneFileName(size_t index) {
  return "zone" + std::to_string(index) + ".zone";
}

}  // namespace

bool dnsAnswers(int port, const std::string& zone, std::chrono::milliseconds timeout) {
  // A hand-made SOA query: the fixture must not depend on the code under test.
  std::string q;
  q += std::string("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
  size_t start = 0;
  while (start < zone.size()) {
    size_t dot = zone.find('.', start);
    if (dot == std::string::npos) dot = zone.size();
    q += static_cast<char>(dot - start);
    q += zone.substr(start, dot - start);
    start = dot + 1;
  }
  q += std::string("\x00\x00\x06\x00\x01", 5);
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = eventually(
      [&] {
        sendto(fd, q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        pollfd p{fd, POLLIN, 0};
        if (poll(&p, 1, 100) != 1) return false;
        char buf[4096];
        return recv(fd, buf, sizeof buf, 0) >= 12;
      },
      timeout);
  close(fd);
  return ok;
}

bool NsdServer::available() {
  return !nsdBinary().empty();
}

NsdServer::NsdServer(const Zones& zones) {
  if (zones.empty()) throw std::runtime_error("NsdServer: no zones");
  std::string error;
  // A port that was free a moment ago may be taken by the time NSD binds it.
  for (int tries = 0; tries < 3; ++tries) {
    if (tryStart(zones, error)) return;
    stop();
  }
  throw std::runtime_error("NSD did not start: " + error + "\n" + log());
}

NsdServer::~NsdServer() {
  stop();
}

std::string NsdServer::log() const {
  return readFile(dir_.file("nsd.log")) + readFile(dir_.file("stdout.log"));
}

bool NsdServer::tryStart(const Zones& zones, std::string& error) {
  port_ = freePort();
  address_ = "127.0.0.1:" + std::to_string(port_);
  const std::string& d = dir_.path();
  std::string conf =
      "server:\n"
      "  ip-address: 127.0.0.1\n"
      "  port: " +
      std::to_string(port_) +
      "\n"
      "  username: \"\"\n"
      "  chroot: \"\"\n"
      "  zonesdir: \"" +
      d +
      "\"\n"
      "  pidfile: \"" +
      d +
      "/nsd.pid\"\n"
      "  database: \"\"\n"
      "  zonelistfile: \"" +
      d +
      "/zone.list\"\n"
      "  xfrdfile: \"" +
      d +
      "/xfrd.state\"\n"
      "  xfrdir: \"" +
      d +
      "\"\n"
      "  logfile: \"" +
      d +
      "/nsd.log\"\n"
      "  server-count: 1\n"
      "  verbosity: 1\n"
      "  do-ip6: no\n"
      "  hide-version: yes\n"
      "  tcp-count: 200\n"
      // NSD's response rate limiting (200/s per /24 by default) would drop
      // or truncate the replies of any test or benchmark above that rate.
      "  rrl-ratelimit: 0\n"
      "  rrl-whitelist-ratelimit: 0\n"
      "remote-control:\n"
      "  control-enable: no\n";
  for (size_t i = 0; i < zones.size(); ++i) {
    writeFile(dir_.file(zoneFileName(i)), zoneFileText(zones[i].first, zones[i].second));
    conf += "zone:\n  name: \"" + zones[i].first + "\"\n  zonefile: \"" + zoneFileName(i) + "\"\n";
  }
  writeFile(dir_.file("nsd.conf"), conf);
  child_ = std::make_unique<Child>(
      std::vector<std::string>{nsdBinary(), "-d", "-c", dir_.file("nsd.conf")},
      dir_.file("stdout.log"));
  bool up = eventually(
      [&] {
        return !child_->running() ||
               dnsAnswers(port_, zones.front().first, std::chrono::milliseconds(200));
      },
      std::chrono::seconds(15));
  if (!up || !child_->running()) {
    error = child_->running() ? "no answer within 15 s" : "nsd exited";
    return false;
  }
  return true;
}

void NsdServer::stop() {
  if (!child_) return;
  // SIGTERM lets NSD stop its server and xfrd children; SIGKILL only the
  // main process would leave them holding the port.
  if (child_->running()) {
    child_->signal(SIGTERM);
    if (child_->wait(std::chrono::seconds(5)) == -1) child_->signal(SIGKILL);
  }
  child_.reset();
}

}  // namespace mxpulse::test
