// SPDX-License-Identifier: Apache-2.0
#include "probes/dns_wire.hpp"

#include <arpa/inet.h>
#include <ldns/ldns.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <set>

namespace mxpulse::probes::dnswire {

namespace {

struct PktFree {
  void operator()(ldns_pkt* p) const { ldns_pkt_free(p); }
};
using PktPtr = std::unique_ptr<ldns_pkt, PktFree>;

std::string lowerWire(const ldns_rdf* rdf) {
  std::string s(reinterpret_cast<const char*>(ldns_rdf_data(rdf)), ldns_rdf_size(rdf));
  // Label length bytes are at most 63, so lowering every byte in 'A'..'Z'
  // only touches label characters.
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

std::string dnameText(const ldns_rdf* rdf) {
  char* text = ldns_rdf2str(rdf);
  if (!text) return "";
  std::string s = normalizeName(text);
  std::free(text);
  return s;
}

bool portFrom(const std::string& s, std::uint16_t& port) {
  if (s.empty() || s.size() > 5) return false;
  unsigned long v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<unsigned long>(c - '0');
  }
  if (v == 0 || v > 65535) return false;
  port = static_cast<std::uint16_t>(v);
  return true;
}

const char* rcodeName(int rcode) {
  switch (rcode) {
    case LDNS_RCODE_FORMERR:
      return "FORMERR";
    case LDNS_RCODE_SERVFAIL:
      return "SERVFAIL";
    case LDNS_RCODE_NOTIMPL:
      return "NOTIMP";
    case LDNS_RCODE_REFUSED:
      return "REFUSED";
    default:
      return "unexpected rcode";
  }
}

Reply malformed(const std::string& why) {
  Reply r;
  r.kind = ReplyKind::Malformed;
  r.answer.status = DnsStatus::Malformed;
  r.answer.error = why;
  return r;
}

/// Appends the data of one record of the asked type; false when a cap is hit.
bool addRecord(const ldns_rr* rr, RrType type, DnsAnswer& a, size_t& bytes,
               const ReplyLimits& limits) {
  auto keep = [&](size_t n) {
    if (bytes + n > limits.maxBytes) return false;
    bytes += n;
    return true;
  };
  const ldns_rdf* first = ldns_rr_rd_count(rr) > 0 ? ldns_rr_rdf(rr, 0) : nullptr;
  if (!first) return true;  // empty rdata: nothing to keep
  switch (type) {
    case RrType::A:
    case RrType::AAAA: {
      char buf[INET6_ADDRSTRLEN] = {0};
      size_t n = ldns_rdf_size(first);
      if ((type == RrType::A && n != 4) || (type == RrType::AAAA && n != 16)) return true;
      inet_ntop(type == RrType::A ? AF_INET : AF_INET6, ldns_rdf_data(first), buf, sizeof buf);
      if (!keep(std::strlen(buf))) return false;
      a.addresses.emplace_back(buf);
      return true;
    }
    case RrType::MX: {
      if (ldns_rr_rd_count(rr) < 2) return true;
      MxRecord mx;
      mx.preference = ldns_rdf2native_int16(first);
      mx.exchange = dnameText(ldns_rr_rdf(rr, 1));
      if (!keep(mx.exchange.size() + 2)) return false;
      a.mx.push_back(std::move(mx));
      return true;
    }
    case RrType::TXT:
    case RrType::SPF: {
      // Every rdf is one <character-string>: a length byte, then the bytes.
      std::string text;
      for (size_t i = 0; i < ldns_rr_rd_count(rr); ++i) {
        const ldns_rdf* part = ldns_rr_rdf(rr, i);
        size_t n = ldns_rdf_size(part);
        if (n == 0) continue;
        const std::uint8_t* d = ldns_rdf_data(part);
        size_t len = std::min<size_t>(d[0], n - 1);
        text.append(reinterpret_cast<const char*>(d + 1), len);
      }
      if (!keep(text.size())) return false;
      a.txt.push_back(std::move(text));
      return true;
    }
    case RrType::NS:
    case RrType::CNAME:
    case RrType::PTR:
    case RrType::SOA: {
      std::string name = dnameText(first);
      if (!keep(name.size())) return false;
      a.names.push_back(std::move(name));
      return true;
    }
  }
  return true;
}

}  // namespace

bool parseServerAddress(const std::string& hostPort, ServerAddress& out, std::string& error) {
  std::string host = hostPort;
  std::uint16_t port = 53;
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    if (close == std::string::npos) {
      error = "'" + hostPort + "': missing ']'";
      return false;
    }
    std::string rest = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!rest.empty() && (rest[0] != ':' || !portFrom(rest.substr(1), port))) {
      error = "'" + hostPort + "': bad port";
      return false;
    }
  } else if (std::count(host.begin(), host.end(), ':') == 1) {
    size_t colon = host.find(':');
    if (!portFrom(host.substr(colon + 1), port)) {
      error = "'" + hostPort + "': bad port";
      return false;
    }
    host = host.substr(0, colon);
  }
  out = ServerAddress();
  auto* v4 = reinterpret_cast<sockaddr_in*>(&out.addr);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&out.addr);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    out.family = AF_INET;
    out.len = sizeof(sockaddr_in);
    out.text = host + ":" + std::to_string(port);
    return true;
  }
  if (inet_pton(AF_INET6, host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    out.family = AF_INET6;
    out.len = sizeof(sockaddr_in6);
    char buf[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &v6->sin6_addr, buf, sizeof buf);
    out.text = std::string("[") + buf + "]:" + std::to_string(port);
    return true;
  }
  error = "'" + hostPort + "' is not IP:port (IPv6 as [::1]:53)";
  return false;
}

bool sameAddress(const sockaddr_storage& from, socklen_t len, const ServerAddress& server) {
  if (from.ss_family != server.family) return false;
  if (server.family == AF_INET) {
    if (len < static_cast<socklen_t>(sizeof(sockaddr_in))) return false;
    auto* a = reinterpret_cast<const sockaddr_in*>(&from);
    auto* b = reinterpret_cast<const sockaddr_in*>(&server.addr);
    return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
  }
  if (len < static_cast<socklen_t>(sizeof(sockaddr_in6))) return false;
  auto* a = reinterpret_cast<const sockaddr_in6*>(&from);
  auto* b = reinterpret_cast<const sockaddr_in6*>(&server.addr);
  return a->sin6_port == b->sin6_port &&
         std::memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(in6_addr)) == 0;
}

std::string normalizeName(const std::string& name) {
  std::string s = name;
  for (auto& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  while (!s.empty() && s.back() == '.' && (s.size() < 2 || s[s.size() - 2] != '\\')) s.pop_back();
  return s;
}

bool makeQuestion(const std::string& name, RrType type, Question& out, std::string& error) {
  out.name = normalizeName(name);
  out.type = type;
  ldns_rdf* dname = ldns_dname_new_frm_str(out.name.empty() ? "." : out.name.c_str());
  if (!dname) {
    error = "not a valid domain name";
    return false;
  }
  out.wire = lowerWire(dname);
  ldns_rdf_deep_free(dname);
  return true;
}

std::vector<std::uint8_t> buildQuery(const Question& q, std::uint16_t id, bool edns) {
  // The layout ldns_pkt_query_new() + ldns_pkt2wire() produce (the unit
  // tests compare the bytes), assembled directly from the name ldns encoded
  // in makeQuestion(): ldns_pkt2wire() builds a compression tree and a
  // 64 KiB buffer for every packet, which cost an eighth of a DNSBL sweep.
  std::vector<std::uint8_t> out;
  out.reserve(12 + q.wire.size() + 4 + (edns ? 11 : 0));
  const std::uint8_t header[12] = {static_cast<std::uint8_t>(id >> 8),
                                   static_cast<std::uint8_t>(id & 0xff),
                                   0x01,  // RD
                                   0x00,
                                   0,
                                   1,  // QDCOUNT
                                   0,
                                   0,  // ANCOUNT
                                   0,
                                   0,  // NSCOUNT
                                   0,
                                   static_cast<std::uint8_t>(edns ? 1 : 0)};
  out.insert(out.end(), header, header + 12);
  out.insert(out.end(), q.wire.begin(), q.wire.end());
  auto type = static_cast<std::uint16_t>(q.type);
  const std::uint8_t tail[4] = {static_cast<std::uint8_t>(type >> 8),
                                static_cast<std::uint8_t>(type & 0xff), 0, LDNS_RR_CLASS_IN};
  out.insert(out.end(), tail, tail + 4);
  if (edns) {
    // OPT RR (RFC 6891): root owner, type 41, class = UDP size 1232, TTL 0, no options.
    const std::uint8_t opt[11] = {0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
    out.insert(out.end(), opt, opt + 11);
  }
  return out;
}

std::vector<std::uint8_t> buildQueryWithLdnsPacket(const Question& q, std::uint16_t id, bool edns) {
  ldns_rdf* dname = ldns_rdf_new_frm_data(LDNS_RDF_TYPE_DNAME, q.wire.size(), q.wire.data());
  if (!dname) return {};
  // ldns_pkt_query_new takes ownership of the name.
  PktPtr pkt(
      ldns_pkt_query_new(dname, static_cast<ldns_rr_type>(q.type), LDNS_RR_CLASS_IN, LDNS_RD));
  if (!pkt) return {};
  ldns_pkt_set_id(pkt.get(), id);
  if (edns) ldns_pkt_set_edns_udp_size(pkt.get(), 1232);
  std::uint8_t* wire = nullptr;
  size_t size = 0;
  if (ldns_pkt2wire(&wire, pkt.get(), &size) != LDNS_STATUS_OK || !wire) return {};
  std::vector<std::uint8_t> out(wire, wire + size);
  std::free(wire);
  return out;
}

Reply parseReply(const std::uint8_t* data, size_t len, std::uint16_t id, const Question& q,
                 const ReplyLimits& limits) {
  ldns_pkt* raw = nullptr;
  // ldns rejects compression loops, pointers past the end and truncation.
  ldns_status st = ldns_wire2pkt(&raw, data, len);
  PktPtr pkt(raw);
  if (st != LDNS_STATUS_OK || !pkt)
    return malformed(std::string("reply does not parse: ") + ldns_get_errorstr_by_id(st));
  if (!ldns_pkt_qr(pkt.get())) return malformed("reply is not a response (QR clear)");
  if (ldns_pkt_id(pkt.get()) != id) return malformed("reply id does not match");
  if (ldns_pkt_get_opcode(pkt.get()) != LDNS_PACKET_QUERY)
    return malformed("reply opcode is not QUERY");
  int rcode = static_cast<int>(ldns_pkt_get_rcode(pkt.get()));
  const ldns_rr_list* question = ldns_pkt_question(pkt.get());
  size_t qd = question ? ldns_rr_list_rr_count(question) : 0;
  bool errorRcode = rcode != LDNS_RCODE_NOERROR && rcode != LDNS_RCODE_NXDOMAIN;
  // Error replies may carry no question (they hold no data to spoof).
  if (qd != 1 && !(qd == 0 && errorRcode)) return malformed("reply does not carry one question");
  if (qd == 1) {
    const ldns_rr* qrr = ldns_rr_list_rr(question, 0);
    if (lowerWire(ldns_rr_owner(qrr)) != q.wire ||
        ldns_rr_get_type(qrr) != static_cast<ldns_rr_type>(q.type) ||
        ldns_rr_get_class(qrr) != LDNS_RR_CLASS_IN)
      return malformed("reply answers a different question");
  }

  Reply r;
  r.answer.rcode = rcode;
  if (errorRcode) {
    r.answer.error = rcodeName(rcode);
    switch (rcode) {
      case LDNS_RCODE_SERVFAIL:
        r.kind = ReplyKind::ServFail;
        r.answer.status = DnsStatus::ServFail;
        break;
      case LDNS_RCODE_REFUSED:
        r.kind = ReplyKind::Refused;
        r.answer.status = DnsStatus::Refused;
        break;
      case LDNS_RCODE_FORMERR:
        r.kind = ReplyKind::FormErr;
        r.answer.status = DnsStatus::ServFail;
        break;
      default:
        r.kind = ReplyKind::OtherRcode;
        r.answer.status = DnsStatus::ServFail;
        r.answer.error = "rcode " + std::to_string(rcode);
    }
    return r;
  }
  if (ldns_pkt_tc(pkt.get())) {
    r.kind = ReplyKind::Truncated;
    r.answer.status = DnsStatus::Timeout;
    r.answer.error = "truncated";
    return r;
  }

  // Follow the CNAME chain inside the answer section from the question name.
  const ldns_rr_list* answer = ldns_pkt_answer(pkt.get());
  size_t an = answer ? ldns_rr_list_rr_count(answer) : 0;
  std::string current = q.wire;
  std::set<std::string> visited{current};
  std::uint32_t ttl = std::numeric_limits<std::uint32_t>::max();
  size_t bytes = 0, kept = 0;
  bool found = false, capped = false;
  for (int hop = 0;; ++hop) {
    for (size_t i = 0; i < an; ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(answer, i);
      if (ldns_rr_get_class(rr) != LDNS_RR_CLASS_IN) continue;
      if (ldns_rr_get_type(rr) != static_cast<ldns_rr_type>(q.type)) continue;
      if (lowerWire(ldns_rr_owner(rr)) != current) continue;
      found = true;
      ttl = std::min(ttl, ldns_rr_ttl(rr));
      if (capped) continue;
      if (kept >= limits.maxRecords || !addRecord(rr, q.type, r.answer, bytes, limits)) {
        capped = true;
        continue;
      }
      ++kept;
    }
    if (found || q.type == RrType::CNAME) break;
    const ldns_rr* cname = nullptr;
    for (size_t i = 0; i < an && !cname; ++i) {
      const ldns_rr* rr = ldns_rr_list_rr(answer, i);
      if (ldns_rr_get_type(rr) == LDNS_RR_TYPE_CNAME && ldns_rr_get_class(rr) == LDNS_RR_CLASS_IN &&
          ldns_rr_rd_count(rr) > 0 && lowerWire(ldns_rr_owner(rr)) == current)
        cname = rr;
    }
    if (!cname) break;
    if (hop >= limits.maxCnameHops)
      return malformed("CNAME chain longer than " + std::to_string(limits.maxCnameHops));
    std::string target = lowerWire(ldns_rr_rdf(cname, 0));
    if (!visited.insert(target).second) return malformed("CNAME loop");
    ttl = std::min(ttl, ldns_rr_ttl(cname));
    r.answer.cnameChain.push_back(dnameText(ldns_rr_rdf(cname, 0)));
    current = target;
  }
  if (capped) r.answer.error = "answer cut to " + std::to_string(kept) + " records";

  // Negative answers are cached for min(SOA TTL, SOA minimum) (RFC 2308).
  bool soa = false;
  const ldns_rr_list* authority = ldns_pkt_authority(pkt.get());
  for (size_t i = 0; authority && i < ldns_rr_list_rr_count(authority); ++i) {
    const ldns_rr* rr = ldns_rr_list_rr(authority, i);
    if (ldns_rr_get_type(rr) != LDNS_RR_TYPE_SOA || ldns_rr_rd_count(rr) < 7) continue;
    soa = true;
    r.negativeTtl = std::min(ldns_rr_ttl(rr), ldns_rdf2native_int32(ldns_rr_rdf(rr, 6)));
  }

  r.kind = ReplyKind::Answer;
  if (found) {
    r.answer.status = DnsStatus::Ok;
    r.answer.ttl = ttl;
  } else if (rcode == LDNS_RCODE_NXDOMAIN) {
    r.answer.status = DnsStatus::NxDomain;
    r.answer.ttl = r.negativeTtl;
  } else if (!r.answer.cnameChain.empty() && !soa) {
    // A CNAME without its target's data and without a negative proof: the
    // server did not chase it (an authoritative server for another zone).
    r.kind = ReplyKind::FollowCname;
    r.followName = r.answer.cnameChain.back();
    r.answer.ttl = ttl;
  } else {
    r.answer.status = DnsStatus::NoData;
    r.answer.ttl = r.negativeTtl;
  }
  return r;
}

TokenBucket::TokenBucket(double rate, double burst, Clock::time_point now)
    : rate_(rate), burst_(std::max(1.0, burst)), tokens_(std::max(1.0, burst)), last_(now) {}

void TokenBucket::refill(Clock::time_point now) {
  if (now <= last_) return;
  double elapsed = std::chrono::duration<double>(now - last_).count();
  tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
  last_ = now;
}

bool TokenBucket::take(Clock::time_point now) {
  refill(now);
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

TokenBucket::Clock::time_point TokenBucket::nextAvailable(Clock::time_point now) const {
  double tokens = tokens_;
  if (now > last_)
    tokens = std::min(burst_, tokens + std::chrono::duration<double>(now - last_).count() * rate_);
  if (tokens >= 1.0 || rate_ <= 0) return now;
  auto wait = std::chrono::duration<double>((1.0 - tokens) / rate_);
  return now + std::chrono::duration_cast<Clock::duration>(wait) + Clock::duration(1);
}

std::string matchZone(const std::string& name, const std::vector<std::string>& zones) {
  std::string best;
  for (const auto& z : zones) {
    if (z.empty() || z.size() <= best.size()) continue;
    bool match = name == z || (name.size() > z.size() &&
                               name.compare(name.size() - z.size(), z.size(), z) == 0 &&
                               name[name.size() - z.size() - 1] == '.');
    if (match) best = z;
  }
  return best;
}

}  // namespace mxpulse::probes::dnswire
