// SPDX-License-Identifier: Apache-2.0
// The shipped unit is accepted by systemd-analyze and keeps its promises.
#include <boost/test/unit_test.hpp>

#include "tests/support/test_support.hpp"

using namespace mxpulse::test;

BOOST_AUTO_TEST_SUITE(systemd_unit)

BOOST_AUTO_TEST_CASE(unit_has_the_required_settings) {
  std::string unit = readFile(sourceDir() + "/systemd/mxpulse.service");
  for (const char* want : {"Type=notify", "Restart=on-failure", "User=mxpulse", "StateDirectory=mxpulse",
                           "LoadCredential=", "ProtectSystem=strict", "NoNewPrivileges=yes",
                           "ExecReload=/bin/kill -HUP $MAINPID", "WatchdogSec="})
    BOOST_TEST(unit.find(want) != std::string::npos, want);
}

BOOST_AUTO_TEST_CASE(systemd_analyze_verify_accepts_it) {
  std::string analyze = findProgram("systemd-analyze");
  skipUnless(!analyze.empty(), "systemd-analyze not installed");
  // verify wants the ExecStart binary to exist: point a copy at ours.
  TempDir dir;
  std::string unit = readFile(sourceDir() + "/systemd/mxpulse.service");
  for (std::string from = "/usr/local/bin/mxpulse"; unit.find(from) != std::string::npos;)
    unit.replace(unit.find(from), from.size(), binary());
  writeFile(dir.file("mxpulse.service"), unit);
  auto r = runProcess({analyze, "verify", dir.file("mxpulse.service")}, {{"SYSTEMD_LOG_LEVEL", "warning"}});
  // Only complaints about this unit count (the host's other units are not ours).
  std::string mine;
  for (size_t pos = 0; pos < r.err.size();) {
    size_t eol = r.err.find('\n', pos);
    std::string line = r.err.substr(pos, eol == std::string::npos ? std::string::npos : eol - pos);
    if (line.find("mxpulse.service") != std::string::npos) mine += line + "\n";
    if (eol == std::string::npos) break;
    pos = eol + 1;
  }
  BOOST_TEST(mine.empty(), mine);
}

BOOST_AUTO_TEST_SUITE_END()
