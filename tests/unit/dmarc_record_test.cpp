// SPDX-License-Identifier: Apache-2.0
// DMARC record parsing against the OpenDMARC, mox, checkdmarc,
// abnf-dmarc-parser and Mail::DMARC vectors. Our target is RFC 7489 plus
// the np/psd/t tags of RFC 9989 (probes/dmarc_record.hpp). Each source's
// verdict means something slightly different, mapped as follows:
//   OpenDMARC, abnf (strict):     ok <=> valid (no errors)
//   abnf with follow_downgrade:   ok <=> a policy applies (valid or downgraded)
//   mox, Mail::DMARC:             ok <=> a policy applies
//   checkdmarc:                   ok <=> a policy applies; error <=> not valid
// Every case where the vectors disagree with our choice is listed in
// kDisagreements with the reason; all other cases must match.
#include <yaml-cpp/yaml.h>

#include <boost/test/unit_test.hpp>
#include <map>
#include <set>

#include "probes/dmarc_record.hpp"
#include "tests/support/test_support.hpp"

using namespace mxpulse;
using probes::DmarcRecord;
using probes::parseDmarcRecord;

namespace {

struct Disagreement {
  std::string source;
  std::string record;
  const char* why;
};

const std::vector<Disagreement> kDisagreements = {
    {"opendmarc", "v=DMARC1; p=n;",
     "OpenDMARC takes 'n' as an abbreviation; RFC 7489 allows only none/quarantine/reject"},
    {"mox", "v=DMARC1; sp=reject; p=reject",
     "mox requires p right after v (RFC 7489 ABNF order); we accept any order with a warning, "
     "as RFC 9989 and most receivers do"},
    {"abnf", "v=DMARC1; sp=none; p=reject", "same as mox: strict ABNF order; we warn"},
    {"abnf", "v=DMARC1;p=reject;sp=nonee; rua=mailtoo:me@example.com",
     "abnf-dmarc-parser downgrades to p=none with any URI scheme; RFC 7489 6.6.3 asks for a "
     "usable reporting URI, which for reports means mailto:"},
    {"checkdmarc", "v=DMARC1; p=reject; ri=abc",
     "RFC 9989 removed ri and checkdmarc no longer validates it; RFC 7489 receivers still "
     "parse it, so a bad value is an error for us"},
    {"checkdmarc", "v=DMARC1; p=reject; rf=invalid", "same as ri: RFC 7489 rf must name afrf"},
    {"mail-dmarc", "v=DMARC1\\; p=reject\\;",
     "backslashes are zone-file escaping; published literally they make v= read 'DMARC1\\', "
     "which receivers do not recognise"},
    {"mail-dmarc", "v=DMARC1; psd=y",
     "RFC 9989 lets a public-suffix record omit p; under RFC 7489 (our target) a record "
     "without p and without a mailto rua applies no policy"},
    {"mail-dmarc",
     "v=DMARC1;p=reject;rua=mailto:dmarc-feedback@theartfarm.com;pct=;ruf=mailto:dmarc-"
     "feedback@theartfarm.com",
     "an empty pct= is a syntax error in RFC 7489 (mox agrees); Mail::DMARC only warns"},
};

bool disagrees(const std::string& source, const std::string& record) {
  for (const auto& d : kDisagreements)
    if (d.source == source && d.record == record) return true;
  return false;
}

std::string dir() {
  std::string d = test::suitesDir();
  test::skipUnless(!d.empty() && test::fileExists(d + "/dmarc-dkim-records/mox/dmarc_parse.json"),
                   "DMARC/DKIM vectors not found (set MXPULSE_SUITES_DIR)");
  return d + "/dmarc-dkim-records";
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : "; ") + x;
  return s;
}

/// Checks every case of one file; returns how many were checked.
int run(const std::string& source, const std::string& file, int& disagreed) {
  YAML::Node doc = YAML::LoadFile(dir() + "/" + file);
  int n = 0;
  for (const auto& c : doc["cases"]) {
    std::string rec = c["record"].Scalar();
    std::string expect = c["expect"].Scalar();
    bool wantOk = expect == "ok" || expect == "ok-with-warning";
    bool downgrade = c["follow_downgrade"] && c["follow_downgrade"].as<bool>();
    DmarcRecord r = parseDmarcRecord(rec);
    bool got;
    if (source == "opendmarc" || (source == "abnf" && !downgrade))
      got = r.valid;
    else if (source == "checkdmarc")
      got = wantOk ? r.hasPolicy() : r.valid;
    else
      got = r.hasPolicy();
    bool expected = wantOk;
    if (disagrees(source, rec)) {
      expected = !wantOk;
      ++disagreed;
    }
    BOOST_CHECK_MESSAGE(got == expected, source << " '" << rec << "' expect " << expect
                                                << (expected != wantOk ? " (we disagree)" : "")
                                                << ": errors [" << joined(r.errors) << "]");
    ++n;
  }
  return n;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(dmarc_record)

BOOST_AUTO_TEST_CASE(vectors) {
  int disagreed = 0;
  BOOST_CHECK_EQUAL(run("opendmarc", "opendmarc/dmarc_parse.json", disagreed), 19);
  BOOST_CHECK_EQUAL(run("mox", "mox/dmarc_parse.json", disagreed), 41);
  BOOST_CHECK_EQUAL(run("checkdmarc", "checkdmarc/dmarc_parse.json", disagreed), 45);
  BOOST_CHECK_EQUAL(run("abnf", "abnf-dmarc-parser/dmarc_parse.json", disagreed), 59);
  BOOST_CHECK_EQUAL(run("mail-dmarc", "mail-dmarc/dmarc_policy_is_valid.json", disagreed), 12);
  // Each listed disagreement was actually met (none is stale).
  BOOST_CHECK_EQUAL(disagreed, static_cast<int>(kDisagreements.size()));
  for (const auto& d : kDisagreements)
    BOOST_TEST_MESSAGE("disagree: " << d.source << " '" << d.record << "': " << d.why);
}

BOOST_AUTO_TEST_CASE(fields_and_defaults) {
  DmarcRecord r = parseDmarcRecord(
      "V = DMARC1 ; P = reject ;\tSP=none; unknown \t=\t ignored-future-value \t ; adkim=s; "
      "aspf=s; rua=mailto:dmarc-feedback@example.com  "
      ",\t\tmailto:tld-test@thirdparty.example.net!10m;"
      " RUF=mailto:auth-reports@example.com; RI = 123; FO = 0:1:d:s ; RF= afrf : other; Pct = 0");
  BOOST_CHECK_MESSAGE(r.valid, joined(r.errors));
  BOOST_CHECK_EQUAL(r.effectivePolicy(), "reject");
  BOOST_CHECK_EQUAL(r.sp, "none");
  BOOST_CHECK_EQUAL(r.np, "none");
  BOOST_CHECK_EQUAL(r.pct, 0);
  BOOST_CHECK_EQUAL(r.ri, 123u);
  BOOST_REQUIRE_EQUAL(r.rua.size(), 2u);
  BOOST_CHECK_EQUAL(r.rua[1].domain, "thirdparty.example.net");
  BOOST_CHECK_EQUAL(r.rua[1].maxBytes, 10u << 20);
  BOOST_CHECK_EQUAL(r.fo.size(), 4u);
  BOOST_CHECK_EQUAL(r.unknownTags.size(), 1u);

  DmarcRecord d = parseDmarcRecord("v=DMARC1; rua=mailto:dmarc@example.com");
  BOOST_CHECK(!d.valid && d.downgraded);
  BOOST_CHECK_EQUAL(d.effectivePolicy(), "none");

  DmarcRecord bis = parseDmarcRecord("v=DMARC1; p=reject; np=quarantine; psd=n; t=y");
  BOOST_CHECK(bis.valid);
  BOOST_CHECK_EQUAL(bis.np, "quarantine");
  BOOST_CHECK_EQUAL(bis.t, "y");

  DmarcRecord order = parseDmarcRecord("v=DMARC1; sp=none; p=reject");
  BOOST_CHECK(order.valid);
  BOOST_CHECK_EQUAL(order.warnings.size(), 1u);

  DmarcRecord enc = parseDmarcRecord("v=DMARC1; p=none; rua=mailto:a%2Cb@example.com!1k");
  BOOST_REQUIRE(enc.valid && enc.rua.size() == 1);
  BOOST_CHECK_EQUAL(enc.rua[0].address, "a,b@example.com");
  BOOST_CHECK_EQUAL(enc.rua[0].maxBytes, 1024u);

  BOOST_CHECK(!probes::isDmarcRecord("v=spf1 -all"));
  BOOST_CHECK(probes::isDmarcRecord("v = DMARC1"));
  BOOST_CHECK(!probes::isDmarcRecord("v=DMARC1 p=none"));
}

BOOST_AUTO_TEST_SUITE_END()
