// SPDX-License-Identifier: Apache-2.0
// PowerMTA accounting CSV: parsing by header name, quoting, time formats,
// and incremental, rotation-safe reading of real files.
#include <unistd.h>
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <fstream>

#include "probes/pmta_accounting.hpp"
#include "tests/support/test_support.hpp"

using namespace mxpulse;
using namespace mxpulse::probes;

namespace {

// The default d/b header (formats.md 2.3) and a real-shaped delivery line.
const char* kHeader =
    "type,timeLogged,timeQueued,timeImprinted,orig,rcpt,orcpt,dsnAction,dsnStatus,dsnDiag,dsnMta,"
    "bounceCat,srcType,srcMta,dlvType,dlvSourceIp,dlvDestinationIp,dlvEsmtpAvailable,dlvSize,vmta,"
    "jobId,envId\r\n";
const char* kDelivery =
    "d,2014-08-24 16:00:14+0530,2014-07-10 16:00:02+0530,,news@example.com,user@example.net,,"
    "relayed,2.0.0 (success),smtp;250 ok dirdel,mx.example.net (198.51.100.35),success,smtp,"
    "app.example.com (192.0.2.163),smtp,192.0.2.109,198.51.100.35,\"PIPELINING,8BITMIME,SIZE,"
    "STARTTLS\",155704,CAMPAIGN,,\r\n";

struct Collected {
  std::vector<AcctRecord> records;
  std::function<void(const AcctRecord&)> fn() {
    return [this](const AcctRecord& r) { records.push_back(r); };
  }
};

void append(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::app | std::ios::binary);
  out << text;
}

AcctReadOptions ipAndTime() {
  AcctReadOptions o;
  o.fields = {"dlvSourceIp", "timeLogged", "bounceCat"};
  return o;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pmta_accounting)

BOOST_AUTO_TEST_CASE(csv_records_with_quotes_and_line_ends) {
  std::vector<std::string> f;
  size_t pos = 0;
  std::string text = "a,\"b,c\",\"say \"\"hi\"\"\",,\"multi\r\nline\"\r\nnext\n";
  BOOST_REQUIRE(parseCsvRecord(text, pos, f));
  BOOST_REQUIRE_EQUAL(f.size(), 5u);
  BOOST_TEST(f[1] == "b,c");
  BOOST_TEST(f[2] == "say \"hi\"");
  BOOST_TEST(f[3] == "");
  BOOST_TEST(f[4] == "multi\r\nline");
  BOOST_REQUIRE(parseCsvRecord(text, pos, f));
  BOOST_TEST(f.size() == 1u);
  BOOST_TEST(pos == text.size());
  // Incomplete: no line end yet, open quote, or a CR whose LF may follow.
  for (std::string partial : {"a,b", "a,\"b\nc", "a,b\r", "a,\"b\""}) {
    size_t p = 0;
    BOOST_TEST(!parseCsvRecord(partial, p, f), partial);
    BOOST_TEST(p == 0u);
  }
}

BOOST_AUTO_TEST_CASE(time_formats) {
  BOOST_TEST(*parseAcctTime("2012-06-12 00:11:57-0500") == 1339477917);
  BOOST_TEST(*parseAcctTime("2012-06-12 05:11:57+0000") == 1339477917);
  BOOST_TEST(*parseAcctTime("2012-06-12T05:11:57Z") == 1339477917);
  BOOST_TEST(*parseAcctTime("2012-06-12T07:11:57+02:00") == 1339477917);
  BOOST_TEST(*parseAcctTime("2012-06-12 05:11:57") == 1339477917);  // no zone: UTC
  BOOST_TEST(*parseAcctTime("1178807903") == 1178807903);
  for (const char* bad : {"", "yesterday", "2012-13-01 00:00:00", "2012-06-12 05:11", "12:00:00"})
    BOOST_TEST(!parseAcctTime(bad).has_value(), bad);
}

BOOST_AUTO_TEST_CASE(record_kinds) {
  BOOST_TEST((acctKindOf("d") == AcctKind::Delivered));
  BOOST_TEST((acctKindOf("delivery") == AcctKind::Delivered));
  BOOST_TEST((acctKindOf("b") == AcctKind::Bounced));
  BOOST_TEST((acctKindOf("rb") == AcctKind::Bounced));
  BOOST_TEST((acctKindOf("f") == AcctKind::Complaint));
  BOOST_TEST((acctKindOf("t") == AcctKind::Other));
  BOOST_TEST((acctKindOf("r") == AcctKind::Other));
}

BOOST_AUTO_TEST_CASE(fields_by_header_name_in_any_order) {
  test::TempDir dir;
  std::string path = dir.file("acct.csv");
  test::writeFile(path, std::string(kHeader) + kDelivery);
  Collected c;
  auto r = readAccountingFile(path, std::nullopt, ipAndTime(), c.fn());
  BOOST_REQUIRE(r.ok);
  BOOST_REQUIRE_EQUAL(c.records.size(), 1u);
  BOOST_TEST(c.records[0].values[0] == "192.0.2.109");
  BOOST_TEST(*parseAcctTime(c.records[0].values[1]) == 1408876214);
  BOOST_TEST(c.records[0].values[2] == "success");

  // record-fields reordered, multi-type union with empty cells.
  std::string other = dir.file("acct2.csv");
  test::writeFile(other,
                  "type,bounceCat,dlvSourceIp,timeLogged,rcpt\n"
                  "b,bad-mailbox,192.0.2.5,1178807915,\"x,y\"@example.com\n"
                  "d,,192.0.2.5,1178807903,a@example.com\n");
  Collected c2;
  r = readAccountingFile(other, std::nullopt, ipAndTime(), c2.fn());
  BOOST_REQUIRE_EQUAL(c2.records.size(), 2u);
  BOOST_TEST((c2.records[0].kind == AcctKind::Bounced));
  BOOST_TEST(c2.records[0].values[2] == "bad-mailbox");
  BOOST_TEST(c2.records[1].values[1] == "1178807903");
}

BOOST_AUTO_TEST_CASE(missing_fields_and_bad_headers_are_reported) {
  test::TempDir dir;
  std::string path = dir.file("acct.csv");
  test::writeFile(path, "type,rcpt\nd,a@example.com\n");
  Collected c;
  auto r = readAccountingFile(path, std::nullopt, ipAndTime(), c.fn());
  BOOST_TEST(r.ok);
  BOOST_TEST(r.missingFields.size() == 3u);
  BOOST_TEST(c.records[0].values[0] == "");

  test::writeFile(path, "d,2014-08-24 16:00:14+0530,x\n");
  r = readAccountingFile(path, std::nullopt, ipAndTime(), c.fn());
  BOOST_TEST(!r.ok);
  BOOST_TEST(r.error.find("not an accounting header") != std::string::npos);

  r = readAccountingFile(dir.file("absent.csv"), std::nullopt, ipAndTime(), c.fn());
  BOOST_TEST(!r.ok);
  BOOST_TEST(r.error.find("cannot open") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(reads_only_new_complete_records) {
  test::TempDir dir;
  std::string path = dir.file("acct.csv");
  test::writeFile(path, std::string(kHeader) + kDelivery);
  Collected c;
  auto r = readAccountingFile(path, std::nullopt, ipAndTime(), c.fn());
  BOOST_REQUIRE(r.ok);
  AcctCursor cur = r.cursor;
  BOOST_TEST(c.records.size() == 1u);

  // Nothing new.
  r = readAccountingFile(path, cur, ipAndTime(), c.fn());
  BOOST_TEST(r.records == 0u);
  BOOST_TEST(r.restarted.empty());

  // A record half-written (PowerMTA mid-write) is left for later...
  append(path, "b,2014-08-24 16:01:00+0530,,,a@x,b@y,,failed,5.1.1 (bad mailbox),\"smtp;550 no");
  r = readAccountingFile(path, cur, ipAndTime(), c.fn());
  BOOST_TEST(r.records == 0u);
  BOOST_TEST(r.cursor.offset == cur.offset);
  cur = r.cursor;
  // ...and read once complete, exactly once.
  append(path, ", sorry\",,bad-mailbox,smtp,,smtp,192.0.2.109,,,,,,\r\n");
  r = readAccountingFile(path, cur, ipAndTime(), c.fn());
  BOOST_TEST(r.records == 1u);
  BOOST_REQUIRE_EQUAL(c.records.size(), 2u);
  BOOST_TEST((c.records[1].kind == AcctKind::Bounced));
  BOOST_TEST(c.records[1].values[2] == "bad-mailbox");
  cur = r.cursor;
  r = readAccountingFile(path, cur, ipAndTime(), c.fn());
  BOOST_TEST(r.records == 0u);
}

BOOST_AUTO_TEST_CASE(rotation_truncation_and_rewrite_start_over) {
  test::TempDir dir;
  std::string path = dir.file("acct.csv");
  test::writeFile(path, std::string(kHeader) + kDelivery + kDelivery);
  Collected c;
  auto r = readAccountingFile(path, std::nullopt, ipAndTime(), c.fn());
  AcctCursor cur = r.cursor;
  BOOST_TEST(r.records == 2u);

  // Rotated: moved away, a new file (new inode) at the same path.
  BOOST_REQUIRE(std::rename(path.c_str(), dir.file("acct-2026-01-01-0000.csv").c_str()) == 0);
  test::writeFile(path, std::string(kHeader) + kDelivery + kDelivery + kDelivery);
  r = readAccountingFile(path, cur, ipAndTime(), c.fn());
  BOOST_TEST(r.restarted == "rotated (new inode)");
  BOOST_TEST(r.records == 3u);
  cur = r.cursor;

  // Truncated in place (same inode, smaller).
  BOOST_REQUIRE(truncate(path.c_str(), 0) == 0);
  append(path, std::string(kHeader) + kDelivery);
  r = readAccountingFile(path, cur, ipAndTime(), c.fn());
  BOOST_TEST(r.restarted == "truncated");
  BOOST_TEST(r.records == 1u);
  cur = r.cursor;

  // Rewritten in place, grown past the old offset, different first bytes.
  {
    std::ofstream out(path, std::ios::trunc | std::ios::binary);
    out << "type,dlvSourceIp,timeLogged\n";
    for (int i = 0; i < 40; ++i) out << "d,192.0.2.9,1178807903\n";
  }
  r = readAccountingFile(path, cur, ipAndTime(), c.fn());
  BOOST_TEST(r.restarted == "replaced (first bytes changed)");
  BOOST_TEST(r.records == 40u);
}

BOOST_AUTO_TEST_CASE(byte_budget_leaves_the_rest_for_later) {
  test::TempDir dir;
  std::string path = dir.file("acct.csv");
  std::string text = "type,dlvSourceIp,timeLogged\n";
  for (int i = 0; i < 1000; ++i) text += "d,192.0.2.9,1178807903\n";
  test::writeFile(path, text);
  AcctReadOptions o = ipAndTime();
  o.maxBytes = 4096;
  Collected c;
  std::optional<AcctCursor> cur;
  int calls = 0;
  bool more = true;
  while (more && calls < 100) {
    auto r = readAccountingFile(path, cur, o, c.fn());
    BOOST_REQUIRE(r.ok);
    cur = r.cursor;
    more = r.more;
    ++calls;
  }
  BOOST_TEST(c.records.size() == 1000u);
  BOOST_TEST(calls > 1);
}

BOOST_AUTO_TEST_CASE(globbing) {
  test::TempDir dir;
  test::writeFile(dir.file("acct-2.csv"), "type\n");
  test::writeFile(dir.file("acct-1.csv"), "type\n");
  test::writeFile(dir.file("other.txt"), "");
  auto files = globFiles({dir.path() + "/acct-*.csv", dir.path() + "/acct-1.csv"});
  BOOST_REQUIRE_EQUAL(files.size(), 2u);
  BOOST_TEST(files[0] == dir.file("acct-1.csv"));
}

BOOST_AUTO_TEST_SUITE_END()
