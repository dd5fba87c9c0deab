// SPDX-License-Identifier: Apache-2.0
#include "probes/dkim_record.hpp"

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cctype>
#include <map>
#include <memory>

#include "probes/tag_text.hpp"

namespace mxpulse::probes {

namespace {

bool isWsp(char c) {
  return tagtext::isSpace(c, true);
}
std::string trim(const std::string& s) {
  return tagtext::trim(s, true);
}
using tagtext::lower;

/// Colon-separated list with optional whitespace around items.
std::vector<std::string> colonList(const std::string& v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t colon = v.find(':', start);
    std::string item =
        trim(v.substr(start, colon == std::string::npos ? std::string::npos : colon - start));
    out.push_back(item);
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return out;
}

bool validTagName(const std::string& n) {
  if (n.empty() || !std::isalpha(static_cast<unsigned char>(n[0]))) return false;
  for (char c : n)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  return true;
}

/// VALCHAR (%x21-3A / %x3C-7E) and folding whitespace only.
bool validTagValue(const std::string& v) {
  for (unsigned char c : v) {
    if (isWsp(static_cast<char>(c))) continue;
    if (c < 0x21 || c > 0x7e || c == ';') return false;
  }
  return true;
}

struct EvpKeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};

/// One DER element at p (bounded by end): its tag and contents. False on
/// anything malformed or on a tag other than `wantTag`.
bool derElement(const unsigned char*& p, const unsigned char* end, int wantTag,
                const unsigned char*& contents, long& length) {
  int tag = 0, cls = 0;
  const unsigned char* q = p;
  int rc = ASN1_get_object(&q, &length, &tag, &cls, end - p);
  if ((rc & 0x80) || cls != V_ASN1_UNIVERSAL || tag != wantTag || length < 0 || length > end - q)
    return false;
  contents = q;
  p = q + length;
  return true;
}

/// SubjectPublicKeyInfo -> the algorithm NID and the subjectPublicKey bits.
/// The envelope is walked by hand: OpenSSL 3's generic d2i_PUBKEY goes
/// through its decoder framework at ~150 us a key, while this plus
/// d2i_PublicKey on the inner RSAPublicKey takes ~1 us (1,000 selectors
/// per run made the difference visible).
bool splitSpki(const std::string& der, int& nid, std::string& key) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* end = p + der.size();
  const unsigned char *spki, *alg, *oid, *bits;
  long spkiLen, algLen, oidLen, bitsLen;
  if (!derElement(p, end, V_ASN1_SEQUENCE, spki, spkiLen) || p != end) return false;
  const unsigned char* inner = spki;
  const unsigned char* innerEnd = spki + spkiLen;
  if (!derElement(inner, innerEnd, V_ASN1_SEQUENCE, alg, algLen)) return false;
  const unsigned char* a = alg;
  if (!derElement(a, alg + algLen, V_ASN1_OBJECT, oid, oidLen)) return false;
  const unsigned char* objDer = oid - 2;  // tag + short length (OIDs here are short)
  if (oidLen > 127) return false;
  ASN1_OBJECT* obj = d2i_ASN1_OBJECT(nullptr, &objDer, oidLen + 2);
  if (!obj) return false;
  nid = OBJ_obj2nid(obj);
  ASN1_OBJECT_free(obj);
  if (!derElement(inner, innerEnd, V_ASN1_BIT_STRING, bits, bitsLen) || inner != innerEnd ||
      bitsLen < 1 || bits[0] != 0)
    return false;
  key.assign(reinterpret_cast<const char*>(bits + 1), static_cast<size_t>(bitsLen - 1));
  return true;
}

/// Bits of a DER RSAPublicKey (PKCS#1), 0 if it does not parse completely.
int rsaBits(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<EVP_PKEY, EvpKeyFree> key(
      d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, static_cast<long>(der.size())));
  if (!key || p != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) return 0;
  return EVP_PKEY_get_bits(key.get());
}

void decodeRsa(const std::string& der, DkimKeyRecord& r) {
  int nid = NID_undef;
  std::string inner;
  if (splitSpki(der, nid, inner)) {
    if (nid != NID_rsaEncryption) {
      r.errors.push_back(std::string("p= holds a ") + OBJ_nid2sn(nid) + " key while k=rsa");
      return;
    }
    r.keyBits = rsaBits(inner);
    if (r.keyBits > 0) {
      r.keyFormat = "spki";
      return;
    }
    r.errors.push_back("p= is not a parsable RSA public key");
    return;
  }
  // Some signers publish the bare PKCS#1 RSAPublicKey.
  r.keyBits = rsaBits(der);
  if (r.keyBits > 0) {
    r.keyFormat = "pkcs1";
    r.warnings.push_back(
        "p= is a bare PKCS#1 RSAPublicKey, not SubjectPublicKeyInfo; some verifiers reject it");
    return;
  }
  r.errors.push_back("p= is not a parsable RSA public key");
}

}  // namespace

bool decodeBase64(const std::string& in, std::string& out) {
  static int table[256];
  static bool init = [] {
    for (int& v : table) v = -1;
    const char* a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i) table[static_cast<unsigned char>(a[i])] = i;
    return true;
  }();
  (void)init;
  out.clear();
  std::string s;
  for (char c : in)
    if (!isWsp(c)) s += c;
  if (s.size() % 4 != 0) return false;
  for (size_t i = 0; i < s.size(); i += 4) {
    int v[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      char c = s[i + j];
      if (c == '=') {
        if (i + 4 != s.size() || j < 2) return false;
        v[j] = 0;
        ++pad;
      } else {
        if (pad) return false;  // data after padding
        v[j] = table[static_cast<unsigned char>(c)];
        if (v[j] < 0) return false;
      }
    }
    unsigned n = (static_cast<unsigned>(v[0]) << 18) | (static_cast<unsigned>(v[1]) << 12) |
                 (static_cast<unsigned>(v[2]) << 6) | static_cast<unsigned>(v[3]);
    out += static_cast<char>((n >> 16) & 0xff);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return true;
}

DkimKeyRecord parseDkimKeyRecord(const std::string& txt) {
  DkimKeyRecord r;
  std::map<std::string, std::string> tags;
  std::vector<std::string> order;
  if (trim(txt).empty()) {
    r.errors.push_back("empty record");
    return r;
  }
  size_t start = 0;
  while (start <= txt.size()) {
    size_t semi = txt.find(';', start);
    bool last = semi == std::string::npos;
    std::string raw = txt.substr(start, last ? std::string::npos : semi - start);
    start = last ? txt.size() + 1 : semi + 1;
    std::string spec = trim(raw);
    if (spec.empty()) {
      if (!last) {
        r.errors.push_back("empty tag between ';' separators");
      } else if (!raw.empty()) {
        r.warnings.push_back("whitespace after the final ';' (RFC 6376 ABNF; mox rejects it)");
      }
      continue;
    }
    size_t eq = spec.find('=');
    if (eq == std::string::npos) {
      r.errors.push_back("tag '" + spec + "' has no '=' (syntax error)");
      continue;
    }
    std::string name = trim(spec.substr(0, eq));
    std::string value = trim(spec.substr(eq + 1));
    if (!validTagName(name)) {
      r.errors.push_back("invalid tag name '" + name + "'");
      continue;
    }
    if (!validTagValue(value)) {
      r.errors.push_back("invalid characters in " + name + "=");
      continue;
    }
    if (tags.count(name)) {
      r.errors.push_back("duplicate tag " + name + "=");
      continue;
    }
    tags[name] = value;
    order.push_back(name);
  }

  // Tag names are case-sensitive (3.2): "V=" is an unknown tag, not v=.
  if (tags.count("v")) {
    r.hasVersion = true;
    if (order.front() != "v") r.errors.push_back("v= must be the first tag");
    if (tags["v"] != "DKIM1") r.errors.push_back("v=" + tags["v"] + " is not DKIM1");
  }
  if (tags.count("k")) {
    r.keyType = lower(tags["k"]);
    if (r.keyType != "rsa" && r.keyType != "ed25519")
      r.errors.push_back("unknown key type k=" + tags["k"]);
  }
  if (tags.count("h")) {
    r.hashes = colonList(tags["h"]);
    bool sha256 = false, sha1 = false;
    for (const auto& h : r.hashes) {
      if (lower(h) == "sha256") sha256 = true;
      if (lower(h) == "sha1") sha1 = true;
    }
    if (!sha256 && !sha1)
      r.errors.push_back("h=" + tags["h"] + " lists no supported hash (sha256)");
    else if (!sha256)
      r.warnings.push_back("h= allows only sha1, which RFC 8301 forbids verifiers to accept");
  }
  if (tags.count("s")) {
    r.services = colonList(tags["s"]);
    bool email = false;
    for (const auto& s : r.services)
      if (s == "*" || lower(s) == "email") email = true;
    if (!email) r.errors.push_back("s=" + tags["s"] + " does not include email");
  }
  if (tags.count("t")) {
    r.flags = colonList(tags["t"]);
    for (const auto& f : r.flags) {
      if (f == "y") r.testing = true;
      if (f == "s") r.strict = true;
    }
  }
  if (tags.count("n")) r.notes = tags["n"];
  static const char* known[] = {"v", "k", "h", "s", "t", "n", "p", "g"};
  for (const auto& name : order) {
    bool isKnown = false;
    for (const char* k : known) isKnown = isKnown || name == k;
    if (!isKnown) r.unknownTags.push_back(name);
  }

  if (!tags.count("p")) {
    r.errors.push_back("p= (the public key) is missing");
  } else {
    std::string key;
    std::string p = tags["p"];
    std::string compact;
    for (char c : p)
      if (!isWsp(c)) compact += c;
    if (compact.empty()) {
      r.revoked = true;
    } else if (!decodeBase64(compact, key)) {
      r.errors.push_back("p= is not valid base64");
    } else if (r.keyType == "ed25519") {
      if (key.size() == 32) {
        r.keyFormat = "raw";
        r.keyBits = 256;
      } else {
        r.errors.push_back("ed25519 key is " + std::to_string(key.size()) +
                           " bytes, must be the raw 32-byte key (RFC 8463)");
      }
    } else if (r.keyType == "rsa") {
      decodeRsa(key, r);
    }
  }
  r.valid = r.errors.empty();
  return r;
}

}  // namespace mxpulse::probes
