// SPDX-License-Identifier: Apache-2.0
// The asynchronous DNS engine behind probes::DnsResolver.
//
// Threads: one I/O thread per resolver, started by the first query() and
// joined by the destructor. query() only appends to a locked inbox and
// pokes an eventfd; everything else (cache, lookups in flight, sockets,
// timers, rate limits) belongs to the I/O thread and needs no lock.
// Callbacks run on that thread; one that calls query() only touches the
// inbox, so there is no re-entrancy into the engine.
//
// A lookup is one question with its waiters (identical questions in flight
// share it). Each attempt goes to servers[attempt % n] over UDP from one of
// a few sockets bound to kernel-chosen random ports, with a random 16-bit
// id unique on that socket. A reply counts only if it comes from the
// address and port the attempt went to, carries the attempt's id and
// answers the same question (ldns parses it; a parse failure or a
// different question fails the attempt as Malformed). TC=1 moves the
// attempt to TCP; FORMERR to an EDNS query retries it without EDNS.
// SERVFAIL/REFUSED/malformed replies retry after a short backoff, timeouts
// at once with a doubled timeout. Every waiter has its own deadline timer,
// so its callback runs exactly once and no later than its deadline.
//
// Politeness: names under a rate-limited zone take a token from that
// zone's bucket per send; without a token the lookup waits in the zone's
// queue and a timer wakes the loop when the next token is due. The loop
// sleeps in epoll_wait until a socket or the next timer is ready: no busy
// waiting and no sleeping threads.
#include "probes/ldns_resolver.hpp"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <iterator>
#include <limits>
#include <mutex>
#include <queue>
#include <random>
#include <thread>
#include <unordered_map>

#include "probes/dns_wire.hpp"

namespace mxpulse::probes {

namespace {

using Clock = std::chrono::steady_clock;
using dnswire::Question;
using dnswire::Reply;
using dnswire::ReplyKind;
using dnswire::ServerAddress;

constexpr size_t kUdpSocketsPerServer = 4;
constexpr size_t kMaxUdpReply = 65536;
constexpr std::uint64_t kTagWake = 1, kTagUdp = 2, kTagTcp = 3;

/// Query ids and the like from the kernel's CSPRNG, fetched in batches.
class Random {
 public:
  std::uint16_t next16() {
    if (pos_ + 2 > sizeof buf_) refill();
    std::uint16_t v = static_cast<std::uint16_t>(buf_[pos_] << 8 | buf_[pos_ + 1]);
    pos_ += 2;
    return v;
  }

 private:
  void refill() {
    ssize_t n = getrandom(buf_, sizeof buf_, 0);
    if (n != static_cast<ssize_t>(sizeof buf_)) {
      std::random_device rd;
      for (auto& b : buf_) b = static_cast<std::uint8_t>(rd());
    }
    pos_ = 0;
  }
  std::uint8_t buf_[1024];
  size_t pos_ = sizeof buf_;
};

struct Request {
  std::string name;
  RrType type;
  Deadline deadline;
  DnsCallback callback;
};

struct Waiter {
  std::uint64_t id;
  DnsCallback callback;
};

enum class Phase { Idle, Queued, Udp, Tcp, Backoff };

struct Lookup {
  std::uint64_t id = 0;
  std::string key;  ///< cache and de-duplication key of the original question
  Question q;       ///< the question on the wire (changes on a CNAME follow-up)
  std::vector<std::string> chain;
  std::uint32_t chainTtl = std::numeric_limits<std::uint32_t>::max();
  int hops = 0;
  int attempt = 0;  ///< sends started for the current question
  bool edns = true;
  std::uint64_t token = 0;  ///< bumped on every state change; stale timers carry an old one
  Phase phase = Phase::Idle;
  size_t server = 0;
  int udpIndex = -1;
  std::uint16_t txid = 0;
  int tcpFd = -1;
  std::string zone;  ///< rate-limited zone, or ""
  std::vector<Waiter> waiters;
  DnsAnswer failure;
  bool haveFailure = false;
};

struct TcpConn {
  std::uint64_t lookup = 0;
  std::vector<std::uint8_t> out;
  size_t outOff = 0;
  std::vector<std::uint8_t> in;
  bool connected = false;
};

struct UdpSocket {
  int fd = -1;
  size_t server = 0;  ///< the server this socket is connected to
};

enum class TimerKind { Attempt, Resume, WaiterDeadline, Wake };

struct Timer {
  Clock::time_point at;
  std::uint64_t seq;
  TimerKind kind;
  std::uint64_t lookup;
  std::uint64_t aux;  ///< token (Attempt/Resume) or waiter id
  bool operator>(const Timer& o) const { return at != o.at ? at > o.at : seq > o.seq; }
};

struct CacheEntry {
  DnsAnswer answer;
  Clock::time_point expires;
};

DnsAnswer failureAnswer(DnsStatus status, std::string error, const std::string& server = "") {
  DnsAnswer a;
  a.status = status;
  a.error = std::move(error);
  a.server = server;
  return a;
}

void deliver(const DnsCallback& cb, const DnsAnswer& answer) {
  if (!cb) return;
  // A throwing callback is a bug in the caller; it must not take the I/O
  // thread (and every other waiter) down with it.
  try {
    cb(answer);
  } catch (...) {
  }
}

class LdnsResolver final : public DnsResolver {
 public:
  explicit LdnsResolver(const DnsResolverOptions& options) : options_(options) {
    if (options_.servers.empty()) options_.servers.push_back("127.0.0.1:53");
    for (const auto& s : options_.servers) {
      ServerAddress addr;
      std::string error;
      if (!dnswire::parseServerAddress(s, addr, error)) {
        configError_ = "bad resolver address " + error;
        break;
      }
      servers_.push_back(addr);
    }
    if (options_.attempts < 1) options_.attempts = 1;
    if (options_.maxInFlight < 1) options_.maxInFlight = 1;
    if (options_.attemptTimeout.count() < 1) options_.attemptTimeout = std::chrono::milliseconds(1);
    auto now = Clock::now();
    auto addBucket = [&](const std::string& zone, double rate) {
      std::string z = dnswire::normalizeName(zone);
      if (z.empty()) return;
      if (rate > 0) {
        // A burst of a fifth of a second keeps the sending smooth.
        buckets_.insert_or_assign(z, dnswire::TokenBucket(rate, rate / 5, now));
      } else {
        buckets_.erase(z);
      }
      if (std::find(rateZones_.begin(), rateZones_.end(), z) == rateZones_.end())
        rateZones_.push_back(z);
    };
    for (const auto& z : options_.rateLimitedZones) addBucket(z, options_.ratePerZone);
    for (const auto& [z, rate] : options_.zoneRates) addBucket(z, rate);
  }

  ~LdnsResolver() override {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    if (thread_.joinable()) {
      poke();
      thread_.join();
    }
    for (auto& s : udp_)
      if (s.fd >= 0) close(s.fd);
    for (auto& [fd, conn] : tcp_) close(fd);
    if (wakeFd_ >= 0) close(wakeFd_);
    if (epollFd_ >= 0) close(epollFd_);
  }

  void query(const std::string& name, RrType type, Deadline deadline,
             DnsCallback callback) override {
    std::unique_lock<std::mutex> lock(mutex_);
    if (exited_ || (!thread_.joinable() && !start())) {
      lock.unlock();
      deliver(callback, failureAnswer(exited_ ? DnsStatus::Timeout : DnsStatus::NetworkError,
                                      exited_ ? "resolver shut down" : startError_));
      return;
    }
    bool wake = inbox_.empty();
    inbox_.push_back(Request{name, type, deadline, std::move(callback)});
    lock.unlock();
    if (wake) poke();
  }

  void queryMany(const std::vector<DnsQuestion>& questions, Deadline deadline,
                 DnsBatchCallback callback) override {
    if (questions.empty()) return;
    auto shared = std::make_shared<DnsBatchCallback>(std::move(callback));
    std::vector<Request> batch;
    batch.reserve(questions.size());
    for (size_t i = 0; i < questions.size(); ++i)
      batch.push_back(Request{questions[i].name, questions[i].type, deadline,
                              [shared, i](const DnsAnswer& a) { (*shared)(i, a); }});
    std::unique_lock<std::mutex> lock(mutex_);
    if (exited_ || (!thread_.joinable() && !start())) {
      DnsAnswer failure = failureAnswer(exited_ ? DnsStatus::Timeout : DnsStatus::NetworkError,
                                        exited_ ? "resolver shut down" : startError_);
      lock.unlock();
      for (auto& r : batch) deliver(r.callback, failure);
      return;
    }
    // One lock and one wake-up for the whole batch: the I/O thread takes it
    // in a single drain and paces it by maxInFlight.
    bool wake = inbox_.empty();
    if (inbox_.empty()) {
      inbox_.swap(batch);
    } else {
      std::move(batch.begin(), batch.end(), std::back_inserter(inbox_));
    }
    lock.unlock();
    if (wake) poke();
  }

 private:
  // ---- called with mutex_ held -------------------------------------------
  bool start() {
    if (!startError_.empty()) return false;
    epollFd_ = epoll_create1(EPOLL_CLOEXEC);
    wakeFd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (epollFd_ < 0 || wakeFd_ < 0) {
      startError_ = std::string("cannot start the DNS engine: ") + std::strerror(errno);
      return false;
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kTagWake << 32;
    epoll_ctl(epollFd_, EPOLL_CTL_ADD, wakeFd_, &ev);
    thread_ = std::thread([this] { loop(); });
    return true;
  }

  void poke() {
    std::uint64_t one = 1;
    ssize_t n = write(wakeFd_, &one, sizeof one);
    (void)n;
  }

  // ---- the I/O thread ----------------------------------------------------
  void loop() {
    epoll_event events[128];
    for (;;) {
      int n = epoll_wait(epollFd_, events, 128, nextTimeoutMs());
      for (int i = 0; i < n; ++i) {
        std::uint64_t tag = events[i].data.u64 >> 32;
        std::uint32_t value = static_cast<std::uint32_t>(events[i].data.u64);
        if (tag == kTagWake) {
          std::uint64_t count;
          while (read(wakeFd_, &count, sizeof count) > 0) {
          }
        } else if (tag == kTagUdp) {
          onUdpReadable(static_cast<int>(value));
        } else if (tag == kTagTcp) {
          onTcpEvent(static_cast<int>(value), events[i].events);
        }
      }
      if (drainInbox()) break;
      runTimers();
      pump(Clock::now());
    }
    shutdown();
  }

  /// Accepts new requests; true once the resolver is being destroyed.
  bool drainInbox() {
    std::vector<Request> batch;
    bool stopping;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      batch.swap(inbox_);
      stopping = stopping_;
    }
    auto now = Clock::now();
    for (auto& r : batch) {
      if (stopping)
        deliver(r.callback, failureAnswer(DnsStatus::Timeout, "resolver shut down"));
      else
        accept(r, now);
    }
    return stopping;
  }

  void shutdown() {
    std::vector<std::uint64_t> ids;
    for (const auto& [id, l] : lookups_) ids.push_back(id);
    for (auto id : ids) {
      auto it = lookups_.find(id);
      if (it != lookups_.end())
        finish(*it->second, failureAnswer(DnsStatus::Timeout, "resolver shut down"));
    }
    // Callbacks may have queued more work; answer it until the inbox stays empty.
    for (;;) {
      std::vector<Request> batch;
      {
        std::lock_guard<std::mutex> lock(mutex_);
        if (inbox_.empty()) {
          exited_ = true;
          return;
        }
        batch.swap(inbox_);
      }
      for (auto& r : batch)
        deliver(r.callback, failureAnswer(DnsStatus::Timeout, "resolver shut down"));
    }
  }

  void accept(Request& r, Clock::time_point now) {
    if (!configError_.empty()) {
      deliver(r.callback, failureAnswer(DnsStatus::NetworkError, configError_));
      return;
    }
    Question q;
    std::string error;
    if (!dnswire::makeQuestion(r.name, r.type, q, error)) {
      deliver(r.callback, failureAnswer(DnsStatus::Malformed, "query name: " + error));
      return;
    }
    if (r.deadline.at() <= now) {
      deliver(r.callback, failureAnswer(DnsStatus::Timeout, "deadline passed before the query"));
      return;
    }
    std::string key = std::to_string(static_cast<int>(r.type)) + "/" + q.name;
    if (options_.cache) {
      auto c = cache_.find(key);
      if (c != cache_.end()) {
        if (c->second.expires > now) {
          DnsAnswer a = c->second.answer;
          a.ttl = static_cast<std::uint32_t>(
              std::chrono::duration_cast<std::chrono::seconds>(c->second.expires - now).count());
          deliver(r.callback, a);
          return;
        }
        cache_.erase(c);
      }
    }
    Lookup* l;
    auto existing = byKey_.find(key);
    if (existing != byKey_.end()) {
      l = lookups_.at(existing->second).get();
    } else {
      auto fresh = std::make_unique<Lookup>();
      fresh->id = ++nextId_;
      fresh->key = key;
      fresh->q = q;
      fresh->zone = dnswire::matchZone(q.name, rateZones_);
      l = fresh.get();
      byKey_[key] = l->id;
      lookups_[l->id] = std::move(fresh);
    }
    std::uint64_t waiterId = ++nextId_;
    l->waiters.push_back(Waiter{waiterId, std::move(r.callback)});
    if (r.deadline.at() != Clock::time_point::max())
      addTimer(r.deadline.at(), TimerKind::WaiterDeadline, l->id, waiterId);
    if (l->phase == Phase::Idle && l->attempt == 0) trySend(*l, now);
  }

  // ---- sending -----------------------------------------------------------
  void trySend(Lookup& l, Clock::time_point now) {
    if (inFlight_ >= options_.maxInFlight) {
      l.phase = Phase::Queued;
      ready_.push_back(l.id);
      return;
    }
    if (!l.zone.empty()) {
      auto b = buckets_.find(l.zone);
      // Lookups already waiting for this zone go first.
      if (b != buckets_.end() && (zoneHasQueue(l.zone) || !b->second.take(now))) {
        l.phase = Phase::Queued;
        zoneQueues_[l.zone].push_back(l.id);
        ++zoneQueued_;
        scheduleWake(b->second.nextAvailable(now));
        return;
      }
    }
    sendUdp(l, now);
  }

  void sendUdp(Lookup& l, Clock::time_point now) {
    size_t serverIndex = static_cast<size_t>(l.attempt) % servers_.size();
    const ServerAddress& server = servers_[serverIndex];
    l.server = serverIndex;
    ++l.attempt;
    ++l.token;
    int si = udpSocket(serverIndex);
    if (si < 0) {
      attemptFailed(l,
                    failureAnswer(DnsStatus::NetworkError,
                                  "cannot open a UDP socket: " + std::string(std::strerror(errno)),
                                  server.text),
                    true, now);
      return;
    }
    std::uint16_t id = random_.next16();
    while (udpPending_.count(udpKey(si, id))) id = random_.next16();
    std::vector<std::uint8_t> wire = dnswire::buildQuery(l.q, id, l.edns);
    if (wire.empty()) {
      finish(l, failureAnswer(DnsStatus::Malformed, "cannot build the query"));
      return;
    }
    ssize_t n = send(udp_[si].fd, wire.data(), wire.size(), 0);
    // A connected socket reports an earlier datagram's ICMP error on the
    // next send (and sends nothing): that error is not this query's.
    if (n < 0 && errno == ECONNREFUSED) n = send(udp_[si].fd, wire.data(), wire.size(), 0);
    if (n < 0) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
        // The socket buffer is full: try the same attempt again shortly.
        --l.attempt;
        l.phase = Phase::Backoff;
        addTimer(now + std::chrono::milliseconds(1), TimerKind::Resume, l.id, l.token);
        return;
      }
      attemptFailed(l,
                    failureAnswer(DnsStatus::NetworkError,
                                  std::string("send: ") + std::strerror(err), server.text),
                    true, now);
      return;
    }
    l.udpIndex = si;
    l.txid = id;
    l.phase = Phase::Udp;
    udpPending_[udpKey(si, id)] = l.id;
    ++inFlight_;
    addTimer(now + attemptTimeout(l.attempt), TimerKind::Attempt, l.id, l.token);
  }

  void startTcp(Lookup& l, Clock::time_point now) {
    releaseWire(l);
    const ServerAddress& server = servers_[l.server];
    int fd = socket(server.family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      attemptFailed(l,
                    failureAnswer(DnsStatus::NetworkError,
                                  std::string("TCP socket: ") + std::strerror(errno), server.text),
                    true, now);
      return;
    }
    if (connect(fd, reinterpret_cast<const sockaddr*>(&server.addr), server.len) != 0 &&
        errno != EINPROGRESS) {
      int err = errno;
      close(fd);
      attemptFailed(l,
                    failureAnswer(DnsStatus::NetworkError,
                                  std::string("TCP connect: ") + std::strerror(err), server.text),
                    true, now);
      return;
    }
    std::vector<std::uint8_t> wire = dnswire::buildQuery(l.q, l.txid, l.edns);
    TcpConn conn;
    conn.lookup = l.id;
    conn.out.push_back(static_cast<std::uint8_t>(wire.size() >> 8));
    conn.out.push_back(static_cast<std::uint8_t>(wire.size() & 0xff));
    conn.out.insert(conn.out.end(), wire.begin(), wire.end());
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLIN;
    ev.data.u64 = kTagTcp << 32 | static_cast<std::uint32_t>(fd);
    epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &ev);
    tcp_[fd] = std::move(conn);
    l.tcpFd = fd;
    l.phase = Phase::Tcp;
    ++l.token;
    ++inFlight_;
    addTimer(now + attemptTimeout(l.attempt), TimerKind::Attempt, l.id, l.token);
  }

  bool zoneHasQueue(const std::string& zone) const {
    if (zoneQueued_ == 0) return false;
    auto q = zoneQueues_.find(zone);
    return q != zoneQueues_.end() && !q->second.empty();
  }

  /// A socket connected to `serverIndex`. A few per server, each on its own
  /// random port (port 0: the kernel picks); queries rotate over them so ids
  /// and ports both vary. Connected sockets let the kernel drop datagrams
  /// from any other address and skip a route lookup per send.
  int udpSocket(size_t serverIndex) {
    std::vector<int> mine;
    for (size_t i = 0; i < udp_.size(); ++i)
      if (udp_[i].server == serverIndex) mine.push_back(static_cast<int>(i));
    auto reuse = [&] { return mine.empty() ? -1 : mine[rotor_++ % mine.size()]; };
    if (mine.size() >= kUdpSocketsPerServer) return reuse();
    const ServerAddress& server = servers_[serverIndex];
    int fd = socket(server.family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return reuse();
    int buf = 1 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof buf);
    sockaddr_storage any{};
    any.ss_family = static_cast<sa_family_t>(server.family);
    socklen_t len = server.family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    if (bind(fd, reinterpret_cast<sockaddr*>(&any), len) != 0 ||
        connect(fd, reinterpret_cast<const sockaddr*>(&server.addr), server.len) != 0) {
      int err = errno;
      close(fd);
      errno = err;
      return reuse();
    }
    udp_.push_back(UdpSocket{fd, serverIndex});
    int index = static_cast<int>(udp_.size() - 1);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = kTagUdp << 32 | static_cast<std::uint32_t>(index);
    epoll_ctl(epollFd_, EPOLL_CTL_ADD, fd, &ev);
    return index;
  }

  std::chrono::milliseconds attemptTimeout(int attempt) const {
    int shift = std::min(std::max(attempt - 1, 0), 3);
    return options_.attemptTimeout * (1 << shift);
  }

  static std::uint32_t udpKey(int socketIndex, std::uint16_t id) {
    return static_cast<std::uint32_t>(socketIndex) << 16 | id;
  }

  // ---- receiving ---------------------------------------------------------
  void onUdpReadable(int index) {
    if (index < 0 || static_cast<size_t>(index) >= udp_.size()) return;
    int fd = udp_[index].fd;
    for (int i = 0; i < 256; ++i) {
      sockaddr_storage from{};
      socklen_t fromLen = sizeof from;
      ssize_t n =
          recvfrom(fd, buffer_, sizeof buffer_, 0, reinterpret_cast<sockaddr*>(&from), &fromLen);
      if (n < 0 && errno == ECONNREFUSED) continue;  // an ICMP report: no query to blame
      if (n < 0) return;                             // EAGAIN
      if (n < 12) continue;                          // not even a header: nothing to match it to
      std::uint16_t id = static_cast<std::uint16_t>(buffer_[0] << 8 | buffer_[1]);
      auto it = udpPending_.find(udpKey(index, id));
      if (it == udpPending_.end()) continue;  // wrong id, or a late reply
      auto l = lookups_.find(it->second);
      if (l == lookups_.end()) continue;
      // Only the server this attempt went to may answer it.
      if (!dnswire::sameAddress(from, fromLen, servers_[l->second->server])) continue;
      handleReply(*l->second, buffer_, static_cast<size_t>(n), Clock::now());
    }
  }

  void onTcpEvent(int fd, std::uint32_t events) {
    auto it = tcp_.find(fd);
    if (it == tcp_.end()) return;
    auto l = lookups_.find(it->second.lookup);
    if (l == lookups_.end()) return;
    Lookup& lookup = *l->second;
    TcpConn& conn = it->second;
    auto now = Clock::now();
    auto fail = [&](const std::string& why) {
      attemptFailed(lookup,
                    failureAnswer(DnsStatus::NetworkError, why, servers_[lookup.server].text), true,
                    now);
    };
    if (!conn.connected && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
      int err = 0;
      socklen_t len = sizeof err;
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) return fail(std::string("TCP connect: ") + std::strerror(err));
      conn.connected = true;
    }
    if (conn.connected && conn.outOff < conn.out.size()) {
      ssize_t n = write(fd, conn.out.data() + conn.outOff, conn.out.size() - conn.outOff);
      if (n < 0 && errno != EAGAIN) return fail(std::string("TCP write: ") + std::strerror(errno));
      if (n > 0) conn.outOff += static_cast<size_t>(n);
      if (conn.outOff == conn.out.size()) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u64 = kTagTcp << 32 | static_cast<std::uint32_t>(fd);
        epoll_ctl(epollFd_, EPOLL_CTL_MOD, fd, &ev);
      }
    }
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR))) return;
    for (;;) {
      size_t want = conn.in.size() < 2
                        ? 2 - conn.in.size()
                        : static_cast<size_t>(conn.in[0] << 8 | conn.in[1]) + 2 - conn.in.size();
      if (want == 0) break;
      std::uint8_t chunk[16384];
      ssize_t n = read(fd, chunk, std::min(want, sizeof chunk));
      if (n == 0) return fail("TCP connection closed before the whole reply");
      if (n < 0) {
        if (errno == EAGAIN) return;
        return fail(std::string("TCP read: ") + std::strerror(errno));
      }
      conn.in.insert(conn.in.end(), chunk, chunk + n);
    }
    std::vector<std::uint8_t> message(conn.in.begin() + 2, conn.in.end());
    handleReply(lookup, message.data(), message.size(), now);
  }

  void handleReply(Lookup& l, const std::uint8_t* data, size_t len, Clock::time_point now) {
    Reply r = dnswire::parseReply(data, len, l.txid, l.q);
    const std::string& server = servers_[l.server].text;
    r.answer.server = server;
    switch (r.kind) {
      case ReplyKind::Malformed:
      case ReplyKind::ServFail:
      case ReplyKind::OtherRcode:
      case ReplyKind::Refused:
        attemptFailed(l, r.answer, true, now);
        return;
      case ReplyKind::FormErr:
        if (l.edns) {
          // An old server that does not speak EDNS: the same attempt without it.
          l.edns = false;
          releaseWire(l);
          --l.attempt;
          sendUdp(l, now);
          return;
        }
        attemptFailed(l, r.answer, true, now);
        return;
      case ReplyKind::Truncated:
        if (l.phase == Phase::Tcp) {
          attemptFailed(l, failureAnswer(DnsStatus::Malformed, "truncated reply over TCP", server),
                        true, now);
          return;
        }
        startTcp(l, now);
        return;
      case ReplyKind::FollowCname: {
        releaseWire(l);
        if (++l.hops > 8) {
          finish(l, failureAnswer(DnsStatus::Malformed, "CNAME chain longer than 8", server));
          return;
        }
        for (auto& name : r.answer.cnameChain) l.chain.push_back(name);
        l.chainTtl = std::min(l.chainTtl, r.answer.ttl);
        Question next;
        std::string error;
        if (!dnswire::makeQuestion(r.followName, l.q.type, next, error)) {
          finish(l, failureAnswer(DnsStatus::Malformed, "CNAME target: " + error, server));
          return;
        }
        l.q = next;
        l.attempt = 0;
        l.edns = true;
        l.zone = dnswire::matchZone(next.name, rateZones_);
        trySend(l, now);
        return;
      }
      case ReplyKind::Answer:
        break;
    }
    DnsAnswer a = std::move(r.answer);
    if (!l.chain.empty()) {
      a.cnameChain.insert(a.cnameChain.begin(), l.chain.begin(), l.chain.end());
      a.ttl = std::min(a.ttl, l.chainTtl);
    }
    if (options_.cache && cache_.size() < options_.cacheMaxEntries && a.ttl > 0)
      cache_[l.key] = CacheEntry{a, now + std::chrono::seconds(a.ttl)};
    finish(l, a);
  }

  // ---- outcomes ----------------------------------------------------------
  /// Takes the lookup off the wire (socket id or TCP connection).
  void releaseWire(Lookup& l) {
    if (l.phase == Phase::Udp) {
      udpPending_.erase(udpKey(l.udpIndex, l.txid));
      --inFlight_;
    } else if (l.phase == Phase::Tcp) {
      epoll_ctl(epollFd_, EPOLL_CTL_DEL, l.tcpFd, nullptr);
      close(l.tcpFd);
      tcp_.erase(l.tcpFd);
      l.tcpFd = -1;
      --inFlight_;
    }
    l.phase = Phase::Idle;
    ++l.token;
  }

  void attemptFailed(Lookup& l, const DnsAnswer& failure, bool immediate, Clock::time_point now) {
    releaseWire(l);
    // Keep the most telling failure: a SERVFAIL says more than a later timeout.
    if (!l.haveFailure || failure.status != DnsStatus::Timeout) l.failure = failure;
    l.haveFailure = true;
    bool last = l.attempt >= options_.attempts ||
                (failure.status == DnsStatus::Refused && servers_.size() == 1);
    if (last) {
      finish(l, l.failure);
      return;
    }
    if (immediate) {
      // A quick failure: back off a little before asking again.
      auto delay = std::min<std::chrono::milliseconds>(
          options_.attemptTimeout, std::chrono::milliseconds(50 << std::min(l.attempt - 1, 5)));
      l.phase = Phase::Backoff;
      addTimer(now + delay, TimerKind::Resume, l.id, l.token);
      return;
    }
    trySend(l, now);
  }

  /// `answer` by value: it may be a member of `l`, which is destroyed here.
  void finish(Lookup& l, DnsAnswer answer) {
    releaseWire(l);
    std::vector<Waiter> waiters = std::move(l.waiters);
    byKey_.erase(l.key);
    lookups_.erase(l.id);  // `l` is gone from here on
    for (const auto& w : waiters) deliver(w.callback, answer);
  }

  // ---- timers and queues -------------------------------------------------
  void addTimer(Clock::time_point at, TimerKind kind, std::uint64_t lookup, std::uint64_t aux) {
    timers_.push(Timer{at, ++timerSeq_, kind, lookup, aux});
  }

  void scheduleWake(Clock::time_point at) {
    if (wakeAt_ != Clock::time_point::max() && wakeAt_ <= at && wakeAt_ > Clock::now()) return;
    wakeAt_ = at;
    addTimer(at, TimerKind::Wake, 0, 0);
  }

  int nextTimeoutMs() const {
    if (timers_.empty()) return -1;
    auto now = Clock::now();
    auto at = timers_.top().at;
    if (at <= now) return 0;
    // Round up so a timer due in 0.3 ms does not spin the loop.
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(at - now).count();
    long long ms = (us + 999) / 1000;
    return static_cast<int>(std::min<long long>(ms, 60 * 60 * 1000));
  }

  void runTimers() {
    for (;;) {
      auto now = Clock::now();
      if (timers_.empty() || timers_.top().at > now) return;
      Timer t = timers_.top();
      timers_.pop();
      if (t.kind == TimerKind::Wake) {
        if (wakeAt_ <= now) wakeAt_ = Clock::time_point::max();
        continue;  // pump() runs after the timers
      }
      auto it = lookups_.find(t.lookup);
      if (it == lookups_.end()) continue;
      Lookup& l = *it->second;
      switch (t.kind) {
        case TimerKind::Attempt:
          if (t.aux == l.token && (l.phase == Phase::Udp || l.phase == Phase::Tcp))
            attemptFailed(
                l,
                failureAnswer(
                    DnsStatus::Timeout,
                    "no reply within " + std::to_string(attemptTimeout(l.attempt).count()) + " ms",
                    servers_[l.server].text),
                false, now);
          break;
        case TimerKind::Resume:
          if (t.aux == l.token && l.phase == Phase::Backoff) {
            l.phase = Phase::Idle;
            trySend(l, now);
          }
          break;
        case TimerKind::WaiterDeadline:
          expireWaiter(l, t.aux);
          break;
        case TimerKind::Wake:
          break;
      }
    }
  }

  void expireWaiter(Lookup& l, std::uint64_t waiterId) {
    auto w = std::find_if(l.waiters.begin(), l.waiters.end(),
                          [&](const Waiter& x) { return x.id == waiterId; });
    if (w == l.waiters.end()) return;
    DnsCallback cb = std::move(w->callback);
    l.waiters.erase(w);
    DnsAnswer a = failureAnswer(DnsStatus::Timeout, "no answer before the deadline");
    if (l.haveFailure && l.failure.status != DnsStatus::Timeout) {
      a.error += " (last error: " + std::string(dnsStatusName(l.failure.status)) +
                 (l.failure.error.empty() ? "" : ", " + l.failure.error) + ")";
    }
    if (l.waiters.empty()) {
      // Nobody wants the answer any more: stop asking.
      releaseWire(l);
      byKey_.erase(l.key);
      lookups_.erase(l.id);
    }
    deliver(cb, a);
  }

  void pump(Clock::time_point now) {
    while (!ready_.empty() && inFlight_ < options_.maxInFlight) {
      std::uint64_t id = ready_.front();
      ready_.pop_front();
      auto it = lookups_.find(id);
      if (it == lookups_.end() || it->second->phase != Phase::Queued) continue;
      it->second->phase = Phase::Idle;
      trySend(*it->second, now);
    }
    if (zoneQueued_ == 0) return;
    for (auto& [zone, queue] : zoneQueues_) {
      auto& bucket = buckets_.at(zone);
      while (!queue.empty() && inFlight_ < options_.maxInFlight) {
        auto it = lookups_.find(queue.front());
        if (it == lookups_.end() || it->second->phase != Phase::Queued) {
          queue.pop_front();
          --zoneQueued_;
          continue;
        }
        if (!bucket.take(now)) break;
        queue.pop_front();
        --zoneQueued_;
        sendUdp(*it->second, now);
      }
      if (!queue.empty() && inFlight_ < options_.maxInFlight)
        scheduleWake(bucket.nextAvailable(now));
    }
  }

  // ---- state -------------------------------------------------------------
  DnsResolverOptions options_;
  std::vector<ServerAddress> servers_;
  std::string configError_;

  std::mutex mutex_;  // guards inbox_, stopping_, exited_, thread start
  std::vector<Request> inbox_;
  bool stopping_ = false, exited_ = false;
  std::string startError_;
  std::thread thread_;
  int epollFd_ = -1, wakeFd_ = -1;

  // Owned by the I/O thread.
  Random random_;
  std::uint64_t nextId_ = 0, timerSeq_ = 0;
  std::unordered_map<std::uint64_t, std::unique_ptr<Lookup>> lookups_;
  std::unordered_map<std::string, std::uint64_t> byKey_;
  std::unordered_map<std::string, CacheEntry> cache_;
  std::unordered_map<std::uint32_t, std::uint64_t> udpPending_;
  std::unordered_map<int, TcpConn> tcp_;
  std::vector<UdpSocket> udp_;
  size_t rotor_ = 0;
  size_t inFlight_ = 0;
  std::deque<std::uint64_t> ready_;
  std::map<std::string, dnswire::TokenBucket> buckets_;
  std::vector<std::string> rateZones_;
  std::map<std::string, std::deque<std::uint64_t>> zoneQueues_;
  size_t zoneQueued_ = 0;
  Clock::time_point wakeAt_ = Clock::time_point::max();
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  std::uint8_t buffer_[kMaxUdpReply];
};

}  // namespace

std::unique_ptr<DnsResolver> makeDnsResolver(const DnsResolverOptions& options) {
  return std::make_unique<LdnsResolver>(options);
}

std::string checkResolverAddress(const std::string& hostPort) {
  dnswire::ServerAddress addr;
  std::string error;
  return dnswire::parseServerAddress(hostPort, addr, error) ? "" : error;
}

}  // namespace mxpulse::probes
