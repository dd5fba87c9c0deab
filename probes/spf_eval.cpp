// SPDX-License-Identifier: Apache-2.0
// check_host() (RFC 7208 4-6) over a synchronous lookup function.
//
// Limits, kept apart as pyspf and the RFC do (4.6.4): DNS-querying terms
// (include a mx ptr exists redirect; never exp) at most maxDnsTerms, void
// lookups at most maxVoidLookups, more than maxMxNames MX names is a
// permerror, PTR names past maxPtrNames are ignored. A void lookup is an
// empty answer (NXDOMAIN or NODATA) to a term's own lookup and, as pyspf
// and Mail::SPF count it, to the address lookup of each MX host and PTR
// name; exp= and %{p} lookups are never charged. DNS errors on a term's
// own lookup are temperror, never a non-match falling through to -all
// (the ptr mechanism and %{p} are the RFC's exceptions: errors there skip).
#include <algorithm>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "probes/spf.hpp"
#include "probes/spf_internal.hpp"

namespace mxpulse::probes::spf {

const char* resultName(Result r) {
  switch (r) {
    case Result::None:
      return "none";
    case Result::Neutral:
      return "neutral";
    case Result::Pass:
      return "pass";
    case Result::Fail:
      return "fail";
    case Result::SoftFail:
      return "softfail";
    case Result::TempError:
      return "temperror";
    case Result::PermError:
      return "permerror";
  }
  return "?";
}

namespace {

Result qualifierResult(char q) {
  switch (q) {
    case '-':
      return Result::Fail;
    case '~':
      return Result::SoftFail;
    case '?':
      return Result::Neutral;
    default:
      return Result::Pass;
  }
}

/// A domain acceptable as check_host()'s <domain> (4.3): a multi-label
/// name with no empty or over-long label, not a domain literal or an IP.
bool validInitialDomain(const std::string& raw) {
  std::string d = raw;
  if (!d.empty() && d.back() == '.') d.pop_back();
  if (d.empty() || d.find('[') != std::string::npos || d.find('.') == std::string::npos)
    return false;
  if (!queryableName(d)) return false;
  Ip ip;
  return !parseIp(d, ip);
}

bool endsWithDomain(const std::string& name, const std::string& domain) {
  std::string n = asciiLower(name), d = asciiLower(domain);
  if (n == d) return true;
  return n.size() > d.size() && n.compare(n.size() - d.size(), d.size(), d) == 0 &&
         n[n.size() - d.size() - 1] == '.';
}

std::string describe(const DnsAnswer& a) {
  std::string s = dnsStatusName(a.status);
  if (!a.error.empty()) s += " (" + a.error + ")";
  return s;
}

/// How a term ended: matched, not matched, or an error result.
struct TermOutcome {
  enum Kind { NoMatch, Match, Error } kind = NoMatch;
  Result error = Result::PermError;
  std::string reason;
  static TermOutcome match() { return {Match, Result::Pass, ""}; }
  static TermOutcome noMatch() { return {NoMatch, Result::Pass, ""}; }
  static TermOutcome fail(Result r, std::string why) { return {Error, r, std::move(why)}; }
};

struct Outcome {
  Result result = Result::None;
  std::string reason;
  std::string explanation;
};

class Evaluator {
 public:
  Evaluator(const Request& req, const Lookup& lookup, const Options& opts)
      : lookup_(lookup), opts_(opts) {
    (void)req;
  }

  Evaluation run(const Request& req) {
    Evaluation& ev = ev_;
    if (!parseIp(req.ip, ctx_.ip)) {
      ev.result = Result::PermError;
      ev.reason = "'" + req.ip + "' is not an IP address";
      return ev;
    }
    ctx_.helo = req.helo;
    std::string sender = req.sender.empty() ? "postmaster@" + req.helo : req.sender;
    size_t at = sender.rfind('@');
    ctx_.local = at == std::string::npos ? "" : sender.substr(0, at);
    ctx_.senderDomain = at == std::string::npos ? sender : sender.substr(at + 1);
    if (ctx_.local.empty()) ctx_.local = "postmaster";
    ctx_.sender = ctx_.local + "@" + ctx_.senderDomain;
    ctx_.receiver = opts_.receiver;
    ctx_.now = opts_.now;
    // %{p} prefers names under the domain being evaluated (ctx_.domain,
    // set in place before each expansion).
    ctx_.validatedName = [this] { return validatedName(ctx_.domain); };
    std::string domain = req.domain.empty() ? ctx_.senderDomain : req.domain;
    if (!validInitialDomain(domain)) {
      ev.result = Result::None;
      ev.reason = "'" + domain + "' is not a valid domain name";
      return ev;
    }
    Outcome o = evalDomain(finishDomain(domain), 0, true);
    ev.result = o.result;
    ev.reason = o.reason;
    ev.explanation = o.explanation;
    return ev;
  }

 private:
  DnsAnswer query(const std::string& name, RrType type) {
    ++ev_.queries;
    for (char c : name)
      if (c >= 'A' && c <= 'Z') return lookup_(asciiLower(name), type);
    return lookup_(name, type);
  }

  /// Charges one DNS term; false (with the reason) when over the limit.
  bool chargeTerm(std::string& why) {
    ++ev_.dnsTerms;
    if (ev_.dnsTerms <= opts_.maxDnsTerms) return true;
    ev_.termLimitExceeded = true;
    why = "more than " + std::to_string(opts_.maxDnsTerms) + " DNS-querying terms";
    return opts_.audit && ev_.dnsTerms <= opts_.auditTermCap;
  }

  /// Charges a void lookup; false when over the limit.
  bool chargeVoid(std::string& why) {
    ++ev_.voidLookups;
    if (ev_.voidLookups <= opts_.maxVoidLookups) return true;
    ev_.voidLimitExceeded = true;
    why = "more than " + std::to_string(opts_.maxVoidLookups) + " void DNS lookups";
    return opts_.audit;
  }

  std::shared_ptr<const Record> parsed(const std::string& text, std::string& error) {
    if (opts_.records) return opts_.records->get(text, error);
    auto rec = std::make_shared<Record>();
    if (!parseRecord(text, *rec, error)) return nullptr;
    return rec;
  }

  std::string expandTarget(const std::string& spec, const std::string& domain) {
    if (spec.empty()) return domain;
    if (spec.find('%') == std::string::npos) return finishDomain(spec);  // no macros
    ctx_.domain = domain;
    return finishDomain(expandMacroString(spec, ctx_));
  }

  Outcome evalDomain(const std::string& domain, int depth, bool wantExp) {
    Outcome out;
    if (opts_.audit && std::any_of(stack_.begin(), stack_.end(),
                                   [&](const std::string& d) { return iequals(d, domain); })) {
      out.result = Result::PermError;
      out.reason = "include/redirect loop through " + domain;
      return out;
    }
    if (!queryableName(domain)) {
      out.result = Result::None;
      out.reason = "'" + domain + "' is not a valid domain name";
      return out;
    }
    DnsAnswer a = query(domain, RrType::TXT);
    if (isTemporaryFailure(a.status)) {
      out.result = Result::TempError;
      out.reason = "TXT lookup for " + domain + " failed: " + describe(a);
      return out;
    }
    std::vector<std::string> spf;
    for (const auto& t : a.txt)
      if (isSpfRecord(t)) spf.push_back(t);
    if (spf.empty()) {
      out.result = Result::None;
      out.reason = "no SPF record at " + domain;
      return out;
    }
    if (spf.size() > 1) {
      out.result = Result::PermError;
      out.reason = std::to_string(spf.size()) + " SPF records at " + domain;
      return out;
    }
    if (depth == 0) ev_.record = spf[0];
    if (depth == 0 || opts_.audit) ev_.records.push_back(RecordSeen{depth, domain, spf[0]});
    std::string error;
    std::shared_ptr<const Record> rec = parsed(spf[0], error);
    if (!rec) {
      out.result = Result::PermError;
      out.reason = "syntax error in the SPF record of " + domain + ": " + error;
      return out;
    }
    stack_.push_back(domain);
    out = evalRecord(*rec, domain, depth, wantExp);
    stack_.pop_back();
    return out;
  }

  Outcome evalRecord(const Record& rec, const std::string& domain, int depth, bool wantExp) {
    Outcome out;
    for (const auto& d : rec.directives) {
      if (d.mechanism == Mechanism::All)
        ev_.allTerms.push_back(Evaluation::AllTerm{depth, domain, d.qualifier, includeDepth_ > 0});
      TermOutcome t = evalDirective(d, domain, depth);
      if (t.kind == TermOutcome::Error) {
        out.result = t.error;
        out.reason = t.reason;
        return out;
      }
      if (t.kind == TermOutcome::NoMatch) continue;
      out.result = qualifierResult(d.qualifier);
      out.reason = "matched " + d.text + " in the record of " + domain;
      if (out.result == Result::Fail && wantExp) out.explanation = explanation(rec, domain);
      return out;
    }
    if (rec.redirect && !rec.hasAll) {
      size_t idx = ev_.trace.size();
      ev_.trace.push_back(TraceEntry{depth, domain, rec.redirectText, "", 1, 0, ""});
      int termsBefore = ev_.dnsTerms, voidsBefore = ev_.voidLookups;
      std::string why;
      if (!chargeTerm(why)) {
        ev_.trace[idx].note = "over the limit";
        return Outcome{Result::PermError, why + " (at " + rec.redirectText + ")", ""};
      }
      std::string target = expandTarget(*rec.redirect, domain);
      ev_.trace[idx].target = target;
      Outcome r = evalDomain(target, depth + 1, wantExp);
      ev_.trace[idx].lookups = ev_.dnsTerms - termsBefore;
      ev_.trace[idx].voidLookups = ev_.voidLookups - voidsBefore;
      if (r.result == Result::None) {
        ev_.trace[idx].note = "no SPF record";
        return Outcome{Result::PermError, "redirect target " + target + " has no SPF record", ""};
      }
      return r;
    }
    out.result = Result::Neutral;
    out.reason = "no mechanism matched in the record of " + domain;
    if (opts_.audit && (ev_.termLimitExceeded || ev_.voidLimitExceeded))
      out.result = Result::PermError;
    return out;
  }

  TermOutcome evalDirective(const Directive& d, const std::string& domain, int depth) {
    switch (d.mechanism) {
      case Mechanism::All:
        return TermOutcome::match();
      case Mechanism::Ip4:
        if (opts_.audit || ctx_.ip.v6) return TermOutcome::noMatch();
        return prefixMatch(ctx_.ip.bytes, d.network, d.cidr4) ? TermOutcome::match()
                                                              : TermOutcome::noMatch();
      case Mechanism::Ip6:
        if (opts_.audit || !ctx_.ip.v6) return TermOutcome::noMatch();
        return prefixMatch(ctx_.ip.bytes, d.network, d.cidr6) ? TermOutcome::match()
                                                              : TermOutcome::noMatch();
      default:
        break;
    }
    // Every other mechanism costs a DNS term.
    size_t idx = ev_.trace.size();
    ev_.trace.push_back(TraceEntry{depth, domain, d.text, "", 1, 0, ""});
    int termsBefore = ev_.dnsTerms, voidsBefore = ev_.voidLookups;
    std::string why;
    if (!chargeTerm(why)) {
      ev_.trace[idx].note = "over the limit";
      return TermOutcome::fail(Result::PermError, why + " (at " + d.text + " in " + domain + ")");
    }
    std::string target = expandTarget(d.domainSpec, domain);
    ev_.trace[idx].target = target;
    TermOutcome t;
    switch (d.mechanism) {
      case Mechanism::Include:
        t = evalInclude(d, target, depth);
        break;
      case Mechanism::A:
        t = evalA(d, target);
        break;
      case Mechanism::Mx:
        t = evalMx(d, target);
        break;
      case Mechanism::Ptr:
        t = evalPtr(target);
        break;
      case Mechanism::Exists:
        t = evalExists(target);
        break;
      default:
        break;
    }
    TraceEntry& e = ev_.trace[idx];
    e.lookups = ev_.dnsTerms - termsBefore;
    e.voidLookups = ev_.voidLookups - voidsBefore;
    if (t.kind == TermOutcome::Match)
      e.note = "matched";
    else if (t.kind == TermOutcome::Error && e.note.empty())
      e.note = t.reason;
    if (opts_.audit && t.kind == TermOutcome::Match) return TermOutcome::noMatch();
    if (opts_.audit && t.kind == TermOutcome::Error) {
      ev_.auditErrors.emplace_back(t.error, t.reason);
      // Keep walking to count everything, unless the cap stops it.
      if (ev_.dnsTerms > opts_.auditTermCap) return t;
      return TermOutcome::noMatch();
    }
    return t;
  }

  /// Void lookup bookkeeping for a term's own query; returns an error
  /// outcome when the void limit is exceeded, else no-match.
  TermOutcome voidResult(const std::string& what) {
    std::string why;
    ev_.trace.back().note = "void: " + what;
    if (!chargeVoid(why)) return TermOutcome::fail(Result::PermError, why + " (" + what + ")");
    return TermOutcome::noMatch();
  }

  TermOutcome evalInclude(const Directive& d, const std::string& target, int depth) {
    ++includeDepth_;
    Outcome r = evalDomain(target, depth + 1, false);
    --includeDepth_;
    switch (r.result) {
      case Result::Pass:
        return TermOutcome::match();
      case Result::Fail:
      case Result::SoftFail:
      case Result::Neutral:
        return TermOutcome::noMatch();
      case Result::TempError:
        return TermOutcome::fail(Result::TempError, r.reason);
      case Result::None:
        return TermOutcome::fail(Result::PermError, d.text + ": " + target + " has no SPF record");
      case Result::PermError:
        return TermOutcome::fail(Result::PermError, r.reason);
    }
    return TermOutcome::noMatch();
  }

  RrType addressType() const { return ctx_.ip.v6 ? RrType::AAAA : RrType::A; }

  TermOutcome evalA(const Directive& d, const std::string& target) {
    if (!queryableName(target)) {
      ev_.trace.back().note = "invalid name, treated as non-existent";
      return TermOutcome::noMatch();
    }
    DnsAnswer a = query(target, addressType());
    if (isTemporaryFailure(a.status))
      return TermOutcome::fail(Result::TempError, std::string(rrTypeName(addressType())) +
                                                      " lookup for " + target +
                                                      " failed: " + describe(a));
    if (a.status != DnsStatus::Ok || a.addresses.empty())
      return voidResult(std::string("no ") + rrTypeName(addressType()) + " for " + target);
    for (const auto& addr : a.addresses)
      if (addressMatches(ctx_.ip, addr, d.cidr4, d.cidr6)) return TermOutcome::match();
    return TermOutcome::noMatch();
  }

  TermOutcome evalMx(const Directive& d, const std::string& target) {
    if (!queryableName(target)) {
      ev_.trace.back().note = "invalid name, treated as non-existent";
      return TermOutcome::noMatch();
    }
    DnsAnswer mx = query(target, RrType::MX);
    if (isTemporaryFailure(mx.status))
      return TermOutcome::fail(Result::TempError,
                               "MX lookup for " + target + " failed: " + describe(mx));
    if (mx.status != DnsStatus::Ok || mx.mx.empty()) return voidResult("no MX for " + target);
    if (static_cast<int>(mx.mx.size()) > opts_.maxMxNames)
      return TermOutcome::fail(Result::PermError, target + " has " + std::to_string(mx.mx.size()) +
                                                      " MX records (limit " +
                                                      std::to_string(opts_.maxMxNames) + ")");
    std::vector<MxRecord> hosts = mx.mx;
    std::stable_sort(hosts.begin(), hosts.end(), [](const MxRecord& x, const MxRecord& y) {
      return x.preference < y.preference;
    });
    for (const auto& h : hosts) {
      if (h.exchange.empty()) continue;  // null MX (RFC 7505)
      DnsAnswer a = query(h.exchange, addressType());
      if (isTemporaryFailure(a.status))
        return TermOutcome::fail(Result::TempError, std::string(rrTypeName(addressType())) +
                                                        " lookup for MX " + h.exchange +
                                                        " failed: " + describe(a));
      if (a.addresses.empty()) {
        // An MX host without an address of the client's family is a void
        // lookup for pyspf and Mail::SPF (the reference implementations), so
        // an IPv6 sender against IPv4-only MX hosts reaches the limit there.
        TermOutcome v = voidResult(std::string("no ") + rrTypeName(addressType()) +
                                   " for MX host " + h.exchange);
        if (v.kind == TermOutcome::Error) return v;
        continue;
      }
      for (const auto& addr : a.addresses)
        if (addressMatches(ctx_.ip, addr, d.cidr4, d.cidr6)) return TermOutcome::match();
    }
    return TermOutcome::noMatch();
  }

  /// PTR names of the client IP, at most maxPtrNames; `error` on DNS error.
  bool ptrNames(std::vector<std::string>& names, DnsAnswer& answer) {
    if (ptrDone_) {
      names = ptrNames_;
      answer = ptrAnswer_;
      return true;
    }
    ptrAnswer_ = query(reverseName(ipReadable(ctx_.ip), ctx_.ip.v6 ? "ip6.arpa" : "in-addr.arpa"),
                       RrType::PTR);
    for (const auto& n : ptrAnswer_.names) {
      if (static_cast<int>(ptrNames_.size()) >= opts_.maxPtrNames) break;
      ptrNames_.push_back(asciiLower(finishDomain(n)));
    }
    ptrDone_ = true;
    names = ptrNames_;
    answer = ptrAnswer_;
    return true;
  }

  enum class Validation { Yes, No, Void, Error };

  /// Does `name` resolve to the client IP? (5.5; DNS errors skip the name.)
  Validation validate(const std::string& name) {
    auto it = validated_.find(name);
    if (it != validated_.end()) return it->second;
    Validation v = Validation::Void;
    if (queryableName(name)) {
      DnsAnswer a = query(name, addressType());
      if (isTemporaryFailure(a.status))
        v = Validation::Error;
      else if (!a.addresses.empty())
        v = Validation::No;
      for (const auto& addr : a.addresses)
        if (addressMatches(ctx_.ip, addr, 32, 128)) v = Validation::Yes;
    }
    validated_[name] = v;
    return v;
  }

  bool validates(const std::string& name) { return validate(name) == Validation::Yes; }

  TermOutcome evalPtr(const std::string& target) {
    std::vector<std::string> names;
    DnsAnswer answer;
    ptrNames(names, answer);
    if (isTemporaryFailure(answer.status)) {
      ev_.trace.back().note = "PTR lookup failed (" + describe(answer) + "), no match";
      return TermOutcome::noMatch();  // 5.5: a DNS error here is a non-match
    }
    if (answer.status != DnsStatus::Ok || names.empty())
      return voidResult("no PTR for " + ipReadable(ctx_.ip));
    // Validate every name first (5.5), as pyspf does: a name without an
    // address is a void lookup there, whether or not it could match.
    bool matched = false;
    for (const auto& n : names) {
      Validation v = validate(n);
      if (v == Validation::Void) {
        TermOutcome t = voidResult("no address for PTR name " + n);
        if (t.kind == TermOutcome::Error) return t;
      }
      if (v == Validation::Yes && endsWithDomain(n, target)) matched = true;
    }
    return matched ? TermOutcome::match() : TermOutcome::noMatch();
  }

  TermOutcome evalExists(const std::string& target) {
    if (!queryableName(target)) {
      ev_.trace.back().note = "invalid name, treated as non-existent";
      return TermOutcome::noMatch();
    }
    DnsAnswer a = query(target, RrType::A);  // always A, even for IPv6 (5.7)
    if (isTemporaryFailure(a.status))
      return TermOutcome::fail(Result::TempError,
                               "A lookup for " + target + " failed: " + describe(a));
    if (a.status != DnsStatus::Ok || a.addresses.empty()) return voidResult("no A for " + target);
    return TermOutcome::match();
  }

  /// %{p} (7.3): a validated PTR name, preferring <domain> itself, then a
  /// subdomain of it, then any; "unknown" when none validates.
  std::string validatedName(const std::string& domain = "") {
    std::vector<std::string> names;
    DnsAnswer answer;
    ptrNames(names, answer);
    std::string d = domain.empty() ? ctx_.domain : domain;
    std::string exact, sub, any;
    for (const auto& n : names) {
      if (!validates(n)) continue;
      if (!d.empty() && iequals(n, d)) {
        if (exact.empty()) exact = n;
      } else if (!d.empty() && endsWithDomain(n, d)) {
        if (sub.empty()) sub = n;
      } else if (any.empty()) {
        any = n;
      }
    }
    if (!exact.empty()) return exact;
    if (!sub.empty()) return sub;
    if (!any.empty()) return any;
    return "unknown";
  }

  /// 6.2: exp= problems (DNS, several or no TXT, bad text) fall back to the
  /// default explanation. Never charged against any limit.
  std::string explanation(const Record& rec, const std::string& domain) {
    std::string fallback = expandExplanationText(opts_.defaultExplanation, domain);
    if (!rec.exp || opts_.audit) return fallback;
    std::string target = expandTarget(*rec.exp, domain);
    if (!queryableName(target)) return fallback;
    DnsAnswer a = query(target, RrType::TXT);
    if (a.status != DnsStatus::Ok || a.txt.size() != 1) return fallback;
    std::string error;
    if (!checkMacroString(a.txt[0], MacroMode::Explanation, error)) return fallback;
    return expandExplanationText(a.txt[0], domain);
  }

  std::string expandExplanationText(const std::string& text, const std::string& domain) {
    std::string error;
    if (!checkMacroString(text, MacroMode::Explanation, error)) return text;
    ctx_.domain = domain;
    return expandMacroString(text, ctx_);
  }

  const Lookup& lookup_;
  const Options& opts_;
  Evaluation ev_;
  MacroContext ctx_;
  std::vector<std::string> stack_;
  bool ptrDone_ = false;
  DnsAnswer ptrAnswer_;
  std::vector<std::string> ptrNames_;
  std::map<std::string, Validation> validated_;
  int includeDepth_ = 0;
};

}  // namespace

std::shared_ptr<const Record> RecordCache::get(const std::string& text, std::string& error) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = records_.find(text);
  if (it == records_.end()) {
    auto rec = std::make_shared<Record>();
    std::string why;
    bool ok = parseRecord(text, *rec, why);
    it = records_.emplace(text, Entry{ok ? rec : nullptr, why}).first;
  }
  error = it->second.error;
  return it->second.record;
}

Evaluation checkHost(const Request& request, const Lookup& lookup, const Options& options) {
  Evaluator e(request, lookup, options);
  return e.run(request);
}

}  // namespace mxpulse::probes::spf
