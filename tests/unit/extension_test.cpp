// SPDX-License-Identifier: Apache-2.0
// The binary's lazy registry and the module's full registry must name the
// same job kinds, and the table the module hands out must be complete.
#include <boost/test/unit_test.hpp>

#include <algorithm>

#include "agent/adhoc.hpp"
#include "agent/extension.hpp"
#include "agent/job.hpp"
#include "jobs/kinds.hpp"

using namespace mxpulse;

BOOST_AUTO_TEST_SUITE(extension)

BOOST_AUTO_TEST_CASE(lazy_registry_names_every_kind_of_the_module) {
  JobRegistry full, lazy;
  registerBuiltinJobs(full);
  registerJobKinds(lazy);
  BOOST_TEST(lazy.names() == full.names(), "update ext::jobKindNames() in agent/extension.cpp");
  std::vector<std::string> fromModule = ext::jobKindNames();
  fromModule.push_back("host");
  std::sort(fromModule.begin(), fromModule.end());
  BOOST_TEST(fromModule == full.names());
}

BOOST_AUTO_TEST_CASE(linked_in_module_loads_and_builds_a_real_job) {
  std::string error;
  const ExtensionApi* api = loadExtension(error);
  BOOST_REQUIRE_MESSAGE(api, error);
  BOOST_TEST(extensionLoaded());
  BOOST_TEST(api->abi == kExtensionAbi);
  BOOST_TEST(api->registerJobs);
  BOOST_TEST(api->registerAdHocChecks);
  BOOST_TEST(api->ipCommand);
  BOOST_TEST(api->telegramSendMessage);
  BOOST_TEST(api->mysqlQueryReadOnly);
  AdHocRegistry adhoc;
  api->registerAdHocChecks(adhoc);
  BOOST_TEST(adhoc.find("spf") != nullptr);
  const JobKind* kind = ext::jobKind("dnsbl", error);
  BOOST_REQUIRE_MESSAGE(kind, error);
  BOOST_TEST(kind->name == "dnsbl");
  BOOST_TEST(ext::jobKind("no_such_kind", error) == nullptr);
  BOOST_TEST(error.find("no_such_kind") != std::string::npos, error);
}

BOOST_AUTO_TEST_SUITE_END()
