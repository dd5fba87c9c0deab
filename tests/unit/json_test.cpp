// SPDX-License-Identifier: Apache-2.0
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "agent/json.hpp"

using namespace mxpulse;

BOOST_AUTO_TEST_SUITE(json)

BOOST_AUTO_TEST_CASE(objects_keep_insertion_order_and_replace_keys) {
  Json j = Json::object();
  j.set("b", 1);
  j.set("a", "x");
  j.set("b", true);
  BOOST_TEST(j.dump() == R"({"b":true,"a":"x"})");
  BOOST_TEST(*j.find("a")->asString() == "x");
  BOOST_TEST(j.find("zzz") == nullptr);
}

BOOST_AUTO_TEST_CASE(strings_are_escaped_and_always_valid_utf8) {
  BOOST_TEST(Json("a\"b\\c\n\t\x01").dump() == R"("a\"b\\c\n\t\u0001")");
  BOOST_TEST(Json("caf\xc3\xa9").dump() == "\"caf\xc3\xa9\"");
  BOOST_TEST(Json("bad\xff\xfe").dump() == R"("bad\ufffd\ufffd")");
  BOOST_TEST(Json("cut\xe2\x82").dump() == R"("cut\ufffd\ufffd")");
}

BOOST_AUTO_TEST_CASE(numbers_round_trip_and_non_finite_become_null) {
  BOOST_TEST(Json(0.1).dump() == "0.1");
  BOOST_TEST(Json(1e300).dump() == "1e+300");
  BOOST_TEST(Json(42).dump() == "42");
  BOOST_TEST(Json(std::nan("")).dump() == "null");
  BOOST_TEST(Json(-9007199254740993LL).dump() == "-9007199254740993");
}

BOOST_AUTO_TEST_CASE(arrays_nesting_and_raw) {
  Json a = Json::array();
  a.push(1);
  a.push(Json::object());
  BOOST_TEST(a.dump() == "[1,{}]");
  Json o = Json::object();
  o.set("facts", Json::raw(R"({"x":1})"));
  o.set("empty", Json::raw(""));
  BOOST_TEST(o.dump() == R"({"facts":{"x":1},"empty":null})");
}

BOOST_AUTO_TEST_SUITE_END()
