// SPDX-License-Identifier: Apache-2.0
// The Boost.Test main, linked into every test executable.
#define BOOST_TEST_MODULE mxpulse
#include <boost/test/unit_test.hpp>
