// SPDX-License-Identifier: Apache-2.0
// The documented example etc/agent.yaml must stay valid, and must show
// every job kind that exists.
#include <boost/test/unit_test.hpp>

#include "agent/config.hpp"
#include "tests/support/test_support.hpp"

using namespace mxpulse;

BOOST_AUTO_TEST_SUITE(shipped_config)

BOOST_AUTO_TEST_CASE(etc_agent_yaml_is_valid) {
  JobRegistry registry;
  registerBuiltinJobs(registry);
  LoadOptions opts;
  opts.resolveSecrets = false;  // its secret files live on a production host
  auto r = loadConfigFile(test::sourceDir() + "/etc/agent.yaml", registry, opts);
  std::string errors;
  for (const auto& e : r.errors.errors()) errors += e + "\n";
  BOOST_TEST_REQUIRE(r.config.has_value(), errors);
}

BOOST_AUTO_TEST_CASE(every_job_kind_has_an_example) {
  JobRegistry registry;
  registerBuiltinJobs(registry);
  LoadOptions opts;
  opts.resolveSecrets = false;
  auto r = loadConfigFile(test::sourceDir() + "/etc/agent.yaml", registry, opts);
  BOOST_TEST_REQUIRE(r.config.has_value());
  for (const auto& kind : registry.names()) {
    bool found = false;
    for (const auto& j : r.config->jobs) found = found || j.kind == kind;
    BOOST_TEST(found, "etc/agent.yaml has no job of kind " << kind);
  }
}

BOOST_AUTO_TEST_SUITE_END()
