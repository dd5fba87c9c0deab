// SPDX-License-Identifier: Apache-2.0
// Certificate facts, chain verification (time ignored, the chain kept when
// it fails), name matching and PEM files, on certificates made in memory.
#include <boost/test/unit_test.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include "probes/x509_chain.hpp"
#include "tests/support/test_support.hpp"
#include "tests/support/tls_certs.hpp"

using namespace mxpulse;
using namespace mxpulse::probes;

namespace {

constexpr std::int64_t kBase = 1800000000;  // 2027-01-15, a fixed clock

struct Fixture {
  test::TempDir dir;
  test::TestPki pki{kBase};
  std::shared_ptr<const TrustStore> trust;
  Fixture() {
    test::writeFile(dir.file("root.pem"), test::certPem(pki.root));
    std::string error;
    trust = TrustStore::create(dir.file("root.pem"), error);
    BOOST_TEST_REQUIRE(trust != nullptr, error);
  }
  ChainReport examine(const std::vector<test::TestCert>& chain, const std::string& name) {
    auto stack = test::stackOf(chain);
    return examineChain(*trust, stack.get(), name);
  }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(x509_chain, Fixture)

BOOST_AUTO_TEST_CASE(facts_of_a_leaf) {
  auto leaf =
      pki.leaf("mx1.test", {"DNS:mx1.test", "DNS:*.mx.test", "IP:127.0.0.1", "IP:::1"}, -10, 60);
  CertInfo c = certInfo(leaf.cert.get());
  BOOST_TEST(c.commonName == "mx1.test");
  BOOST_TEST(c.subject == "CN=mx1.test");
  BOOST_TEST(c.issuer == "CN=mxpulse Test Intermediate");
  BOOST_TEST((c.dnsNames == std::vector<std::string>{"mx1.test", "*.mx.test"}));
  BOOST_TEST((c.ipAddresses == std::vector<std::string>{"127.0.0.1", "::1"}));
  BOOST_TEST(c.notBefore == kBase - 10 * test::kDaySeconds);
  BOOST_TEST(c.notAfter == kBase + 60 * test::kDaySeconds);
  BOOST_TEST(c.sha256.size() == 64u);
  BOOST_TEST(!c.selfSigned);
  BOOST_TEST(certInfo(pki.root.cert.get()).selfSigned);
}

BOOST_AUTO_TEST_CASE(chain_verifies_and_the_built_chain_ends_at_the_root) {
  auto leaf = pki.leaf("mx1.test", {"DNS:mx1.test"}, -10, 60);
  auto r = examine({leaf, pki.intermediate}, "mx1.test");
  BOOST_TEST(r.trusted, r.verifyError);
  BOOST_TEST(r.served.size() == 2u);
  BOOST_TEST_REQUIRE(r.verified.size() == 3u);
  BOOST_TEST(r.verified[2].subject == "CN=mxpulse Test Root");
  BOOST_TEST(r.nameMatches);
  BOOST_TEST(r.nameChecked == "mx1.test");
}

BOOST_AUTO_TEST_CASE(expired_unused_cross_sign_is_served_but_not_in_the_verified_chain) {
  auto leaf = pki.leaf("mx1.test", {"DNS:mx1.test"}, -10, 60);
  auto r = examine({leaf, pki.intermediate, pki.expiredCrossSign}, "mx1.test");
  BOOST_TEST(r.trusted, r.verifyError);
  BOOST_TEST(r.served.size() == 3u);
  BOOST_TEST(r.served[2].notAfter < kBase);  // the served chain holds an expired cert
  BOOST_TEST_REQUIRE(r.verified.size() == 3u);
  for (const auto& c : r.verified) BOOST_TEST(c.notAfter > kBase, c.subject);
  BOOST_TEST(r.verified[2].issuer == "CN=mxpulse Test Root");  // the self-signed root
}

BOOST_AUTO_TEST_CASE(expired_leaf_still_yields_its_chain) {
  auto leaf = pki.leaf("mx1.test", {"DNS:mx1.test"}, -100, -3);
  auto r = examine({leaf, pki.intermediate}, "mx1.test");
  BOOST_TEST(r.trusted, r.verifyError);  // time is the evaluator's business
  BOOST_TEST(r.verified.size() == 3u);
  BOOST_TEST(r.served[0].notAfter == kBase - 3 * test::kDaySeconds);
}

BOOST_AUTO_TEST_CASE(self_signed_and_incomplete_chains_do_not_verify_but_are_kept) {
  auto self = pki.selfSigned("mx1.test", {"DNS:mx1.test"}, 60);
  auto a = examine({self}, "mx1.test");
  BOOST_TEST(!a.trusted);
  BOOST_TEST(a.verifyError == "self-signed certificate");
  BOOST_TEST(a.served.size() == 1u);
  BOOST_TEST(a.verified.empty());
  BOOST_TEST(a.nameMatches);

  auto leaf = pki.leaf("mx1.test", {"DNS:mx1.test"}, -10, 60);
  auto b = examine({leaf}, "mx1.test");  // intermediate missing
  BOOST_TEST(!b.trusted);
  BOOST_TEST(b.verifyError.find("unable to get local issuer") != std::string::npos, b.verifyError);
  BOOST_TEST(b.verifyErrorDepth == 0);
}

BOOST_AUTO_TEST_CASE(system_store_does_not_trust_the_test_root) {
  std::string error;
  auto system = TrustStore::create("", error);
  BOOST_TEST_REQUIRE(system != nullptr, error);
  BOOST_TEST(system->description() == "system");
  auto leaf = pki.leaf("mx1.test", {"DNS:mx1.test"}, -10, 60);
  auto stack = test::stackOf({leaf, pki.intermediate});
  BOOST_TEST(!examineChain(*system, stack.get(), "mx1.test").trusted);
}

BOOST_AUTO_TEST_CASE(bad_ca_file_is_an_error) {
  std::string error;
  BOOST_TEST(TrustStore::create(dir.file("absent.pem"), error) == nullptr);
  BOOST_TEST(error.find("cannot load CA file") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(name_matching_follows_rfc_6125) {
  auto leaf =
      pki.leaf("ignored-cn.test", {"DNS:mx1.test", "DNS:*.mail.test", "IP:127.0.0.1"}, -1, 60);
  auto check = [&](const std::string& name) {
    return examine({leaf, pki.intermediate}, name).nameMatches;
  };
  BOOST_TEST(check("mx1.test"));
  BOOST_TEST(check("MX1.TEST"));
  BOOST_TEST(check("a.mail.test"));
  BOOST_TEST(!check("a.b.mail.test"));  // a wildcard covers one label
  BOOST_TEST(!check("mail.test"));
  BOOST_TEST(!check("ignored-cn.test"));  // CN is not used when DNS SANs exist
  BOOST_TEST(check("127.0.0.1"));
  BOOST_TEST(!check("127.0.0.2"));
  BOOST_TEST(!check("mx2.test"));
  BOOST_TEST(usableAsSni("mx1.test"));
  BOOST_TEST(!usableAsSni("127.0.0.1"));
  BOOST_TEST(!usableAsSni("::1"));
}

BOOST_AUTO_TEST_CASE(pem_file_with_key_and_chain) {
  auto leaf = pki.leaf("www.test", {"DNS:www.test"}, -10, 60);
  test::writeFile(dir.file("combined.pem"),
                  test::keyPem(leaf) + test::certPem(leaf) + test::certPem(pki.intermediate));
  CertFile f = examineCertFile(*trust, dir.file("combined.pem"));
  BOOST_TEST(f.error.empty(), f.error);
  BOOST_TEST(f.chain.served.size() == 2u);
  BOOST_TEST(f.chain.served[0].commonName == "www.test");
  BOOST_TEST(f.chain.trusted, f.chain.verifyError);
  BOOST_TEST(f.chain.nameChecked.empty());
}

BOOST_AUTO_TEST_CASE(pem_file_errors_have_reasons) {
  CertFile missing = examineCertFile(*trust, dir.file("nope.pem"));
  BOOST_TEST(missing.errorReason == "missing");
  test::writeFile(dir.file("key-only.pem"), test::keyPem(pki.root));
  CertFile keyOnly = examineCertFile(*trust, dir.file("key-only.pem"));
  BOOST_TEST(keyOnly.errorReason == "no_certificate");
  if (geteuid() != 0) {  // root reads anything
    test::writeFile(dir.file("locked.pem"), test::certPem(pki.root));
    chmod(dir.file("locked.pem").c_str(), 0);
    BOOST_TEST(examineCertFile(*trust, dir.file("locked.pem")).errorReason == "permission");
  }
}

BOOST_AUTO_TEST_SUITE_END()
