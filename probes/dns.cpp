// SPDX-License-Identifier: Apache-2.0
#include "probes/dns.hpp"

#include <arpa/inet.h>

#include <condition_variable>
#include <memory>
#include <mutex>

namespace mxpulse::probes {

const char* rrTypeName(RrType type) {
  switch (type) {
    case RrType::A:
      return "A";
    case RrType::NS:
      return "NS";
    case RrType::CNAME:
      return "CNAME";
    case RrType::SOA:
      return "SOA";
    case RrType::PTR:
      return "PTR";
    case RrType::MX:
      return "MX";
    case RrType::TXT:
      return "TXT";
    case RrType::AAAA:
      return "AAAA";
    case RrType::SPF:
      return "SPF";
  }
  return "?";
}

const char* dnsStatusName(DnsStatus status) {
  switch (status) {
    case DnsStatus::Ok:
      return "ok";
    case DnsStatus::NxDomain:
      return "nxdomain";
    case DnsStatus::NoData:
      return "nodata";
    case DnsStatus::ServFail:
      return "servfail";
    case DnsStatus::Refused:
      return "refused";
    case DnsStatus::Timeout:
      return "timeout";
    case DnsStatus::Malformed:
      return "malformed";
    case DnsStatus::NetworkError:
      return "network_error";
  }
  return "?";
}

bool isTemporaryFailure(DnsStatus status) {
  return status != DnsStatus::Ok && status != DnsStatus::NxDomain && status != DnsStatus::NoData;
}

void DnsResolver::queryMany(const std::vector<DnsQuestion>& questions, Deadline deadline,
                            DnsBatchCallback callback) {
  auto shared = std::make_shared<DnsBatchCallback>(std::move(callback));
  for (size_t i = 0; i < questions.size(); ++i)
    query(questions[i].name, questions[i].type, deadline,
          [shared, i](const DnsAnswer& a) { (*shared)(i, a); });
}

DnsAnswer DnsResolver::resolve(const std::string& name, RrType type, Deadline deadline) {
  struct Slot {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    DnsAnswer answer;
  };
  auto slot = std::make_shared<Slot>();
  query(name, type, deadline, [slot](const DnsAnswer& a) {
    std::lock_guard<std::mutex> lock(slot->m);
    slot->answer = a;
    slot->done = true;
    slot->cv.notify_all();
  });
  std::unique_lock<std::mutex> lock(slot->m);
  // The implementation guarantees the callback by the deadline; the extra
  // second only guards against a broken implementation hanging the caller.
  if (!slot->cv.wait_until(lock, deadline.at() + std::chrono::seconds(1),
                           [&] { return slot->done; })) {
    DnsAnswer timeout;
    timeout.status = DnsStatus::Timeout;
    timeout.error = "no answer before the deadline";
    return timeout;
  }
  return slot->answer;
}

std::string reverseName(const std::string& ip, const std::string& suffix) {
  unsigned char buf[16];
  std::string out;
  if (inet_pton(AF_INET, ip.c_str(), buf) == 1) {
    for (int i = 3; i >= 0; --i) out += std::to_string(buf[i]) + ".";
  } else if (inet_pton(AF_INET6, ip.c_str(), buf) == 1) {
    static const char* hex = "0123456789abcdef";
    for (int i = 15; i >= 0; --i) {
      out += hex[buf[i] & 0xF];
      out += '.';
      out += hex[buf[i] >> 4];
      out += '.';
    }
  } else {
    return "";
  }
  if (suffix.empty())
    out.pop_back();
  else
    out += suffix;
  return out;
}

std::string ptrName(const std::string& ip) {
  unsigned char buf[16];
  bool v4 = inet_pton(AF_INET, ip.c_str(), buf) == 1;
  return reverseName(ip, v4 ? "in-addr.arpa" : "ip6.arpa");
}

}  // namespace mxpulse::probes
