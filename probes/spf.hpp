// SPDX-License-Identifier: Apache-2.0
// SPF (RFC 7208): the record parser, the macro language and check_host().
// No policy here: the evaluator answers "what would a receiver conclude for
// this IP", plus the costs (DNS terms, void lookups, queries) and a trace of
// where they came from, so a job can say which include blew the budget.
//
// DNS goes through a synchronous lookup function so the same evaluator runs
// against the RFC 7208 test-suite zone data in unit tests and against
// DnsResolver::resolve() (with the run's deadline) in the job.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "probes/dns.hpp"

namespace mxpulse::probes::spf {

enum class Result { None, Neutral, Pass, Fail, SoftFail, TempError, PermError };
/// "none", "neutral", "pass", "fail", "softfail", "temperror", "permerror".
const char* resultName(Result r);

/// One DNS question; must return NxDomain/NoData for "no such record" and a
/// temporary status (ServFail, Timeout, ...) for "could not tell".
using Lookup = std::function<DnsAnswer(const std::string& name, RrType type)>;

class RecordCache;

struct Options {
  int maxDnsTerms = 10;              ///< include a mx ptr exists redirect (RFC 7208 4.6.4)
  int maxVoidLookups = 2;            ///< NXDOMAIN/NODATA answers to those terms (a SHOULD)
  int maxMxNames = 10;               ///< more MX names than this is a permerror
  int maxPtrNames = 10;              ///< PTR names beyond this are ignored
  std::string receiver = "unknown";  ///< %{r}
  std::int64_t now = 0;              ///< %{t}, unix seconds
  /// Returned with "fail" when the record has no usable exp=. May hold
  /// macros (expanded like an exp= text).
  std::string defaultExplanation;
  /// Audit mode: no mechanism but `all` matches, limits are recorded but do
  /// not stop the walk (up to auditTermCap terms), DNS errors are noted and
  /// skipped. The result is meaningless; the costs are those of an IP that
  /// matches nothing, i.e. the worst case every receiver can hit.
  bool audit = false;
  int auditTermCap = 60;
  /// Parsed records shared by many evaluations (e.g. one job run); null =
  /// parse on every use.
  std::shared_ptr<RecordCache> records;
};

struct Request {
  std::string ip;      ///< client IP, v4 or v6 (IPv4-mapped v6 counts as v4)
  std::string domain;  ///< <domain>; "" = the domain of `sender`
  std::string sender;  ///< MAIL FROM; "" = postmaster@<helo>
  std::string helo;    ///< HELO/EHLO name (%{h})
};

/// One DNS-costing or notable term of the evaluation, in evaluation order.
struct TraceEntry {
  int depth = 0;        ///< 0 = the checked domain's record
  std::string domain;   ///< whose record holds the term
  std::string term;     ///< as written, e.g. "include:_spf.vendor.net"
  std::string target;   ///< expanded target name ("" if none)
  int lookups = 0;      ///< DNS terms charged: 1 plus a subtree's for include/redirect
  int voidLookups = 0;  ///< void lookups charged (subtree included)
  std::string note;     ///< "matched", "void", "loop", a DNS error, ...
};

struct RecordSeen {
  int depth = 0;
  std::string domain;
  std::string text;  ///< the v=spf1 record as published
};

struct Evaluation {
  Result result = Result::None;
  std::string reason;       ///< why: the matching term, the error, "no SPF record"
  std::string explanation;  ///< with Fail: exp= text (or the default)
  std::string record;       ///< the checked domain's own record ("" if none)
  int dnsTerms = 0;         ///< DNS-querying terms evaluated
  int voidLookups = 0;
  int queries = 0;  ///< lookups made (cache hits included)
  bool termLimitExceeded = false;
  bool voidLimitExceeded = false;
  std::vector<TraceEntry> trace;
  std::vector<RecordSeen> records;  ///< the checked domain's; all of them in audit mode
  /// `all` terms met, in order, e.g. {0, "example.com", '-'}; used to flag
  /// +all / ?all (also inside includes).
  struct AllTerm {
    int depth = 0;
    std::string domain;
    char qualifier = '+';
    bool viaInclude = false;  ///< reached through an include (not only redirects)
  };
  std::vector<AllTerm> allTerms;
  /// Audit mode: errors met in includes/terms and walked past, with the
  /// result each would have produced (temperror or permerror).
  std::vector<std::pair<Result, std::string>> auditErrors;
};

/// RFC 7208 check_host(). Never throws on bad input: a malformed IP gives
/// PermError, a malformed domain None (4.3).
Evaluation checkHost(const Request& request, const Lookup& lookup, const Options& options = {});

// --- Exposed for tests and for the job's record lint -----------------------

/// True when `txt` is an SPF record: "v=spf1" (any case) then end or space.
bool isSpfRecord(const std::string& txt);

enum class Mechanism { All, Include, A, Mx, Ptr, Ip4, Ip6, Exists };

struct Directive {
  char qualifier = '+';
  Mechanism mechanism = Mechanism::All;
  std::string text;        ///< the term as written
  std::string domainSpec;  ///< macro-string target; "" = the current domain
  int cidr4 = 32, cidr6 = 128;
  unsigned char network[16] = {};  ///< ip4 (first 4 bytes) / ip6
};

struct Record {
  std::vector<Directive> directives;
  std::optional<std::string> redirect, exp;  ///< domain-specs
  std::string redirectText;                  ///< "redirect=..." as written
  bool hasAll = false;
};

/// Parses a whole record (4.6: any syntax error anywhere is a permerror).
/// False with `error` naming the bad term.
bool parseRecord(const std::string& text, Record& out, std::string& error);

/// Records parsed once and shared, thread-safe: the same include record is
/// walked thousands of times in a run over many domains and IPs.
class RecordCache {
 public:
  /// The parsed record, or null with `error` when it does not parse.
  std::shared_ptr<const Record> get(const std::string& text, std::string& error);

 private:
  struct Entry {
    std::shared_ptr<const Record> record;
    std::string error;
  };
  std::mutex mutex_;
  std::unordered_map<std::string, Entry> records_;
};

}  // namespace mxpulse::probes::spf
