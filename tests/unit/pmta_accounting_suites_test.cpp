// SPDX-License-Identifier: Apache-2.0
// The public PowerMTA accounting samples in ../shared/suites/powermta/.
#include <boost/test/unit_test.hpp>

#include "probes/pmta_accounting.hpp"
#include "tests/support/test_support.hpp"

using namespace mxpulse;
using namespace mxpulse::probes;

BOOST_AUTO_TEST_SUITE(pmta_accounting_suites)

BOOST_AUTO_TEST_CASE(public_samples) {
  std::string dir = test::suitesDir();
  test::skipUnless(!dir.empty() && test::fileExists(dir + "/powermta/port25-bouncehandler/"
                                                          "readme_bounce_sample.csv"),
                   "PowerMTA samples not found (set MXPULSE_SUITES_DIR)");
  AcctReadOptions o;
  o.fields = {"dlvSourceIp", "timeQueued", "bounceCat", "dsnStatus"};
  std::vector<AcctRecord> got;
  auto r = readAccountingFile(dir + "/powermta/port25-bouncehandler/readme_bounce_sample.csv",
                              std::nullopt, o, [&](const AcctRecord& a) { got.push_back(a); });
  BOOST_REQUIRE(r.ok);
  BOOST_REQUIRE_EQUAL(got.size(), 2u);
  for (const auto& a : got) {
    BOOST_TEST((a.kind == AcctKind::Bounced));
    BOOST_TEST(a.values[0] == "1.1.1.1");
    BOOST_TEST(parseAcctTime(a.values[1]).has_value());
  }
  BOOST_TEST(got[0].values[2] == "bad-domain");
  BOOST_TEST(got[1].values[3] == "5.1.1 (bad destination mailbox address)");
  BOOST_TEST(r.missingFields.empty());

  // Custom record-fields without a source IP: the records are read, the
  // missing field is named.
  got.clear();
  r = readAccountingFile(dir + "/powermta/sparkypmtatracking/example.csv", std::nullopt, o,
                         [&](const AcctRecord& a) { got.push_back(a); });
  BOOST_REQUIRE(r.ok);
  BOOST_TEST(got.size() == 3u);
  BOOST_TEST((got[0].kind == AcctKind::Delivered));
  BOOST_TEST(r.missingFields.size() == 4u);
}

BOOST_AUTO_TEST_SUITE_END()
