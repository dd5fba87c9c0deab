// SPDX-License-Identifier: Apache-2.0
#define BOOST_TEST_MODULE mxpulse unit tests
#include <boost/test/unit_test.hpp>
