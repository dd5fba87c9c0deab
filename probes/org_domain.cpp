// SPDX-License-Identifier: Apache-2.0
#include "probes/org_domain.hpp"

#include <set>
#include <vector>

namespace mxpulse::probes {

std::string organizationalDomain(const std::string& domain) {
  // Second-level labels that registries sell under (country-code SLDs).
  static const std::set<std::string> sld = {"co",  "com", "net",    "org", "gov", "edu",  "ac",
                                            "or",  "ne",  "go",     "gob", "nic", "ltd",  "plc",
                                            "sch", "nhs", "police", "mil", "nom", "info", "biz"};
  std::string d;
  for (char c : domain) d += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (!d.empty() && d.back() == '.') d.pop_back();
  std::vector<std::string> labels;
  size_t start = 0;
  while (true) {
    size_t dot = d.find('.', start);
    labels.push_back(d.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  size_t n = labels.size();
  if (n <= 2) return d;
  size_t keep = 2;
  if (labels[n - 1].size() == 2 && sld.count(labels[n - 2])) keep = 3;  // example.co.uk
  std::string out;
  for (size_t i = n - keep; i < n; ++i) out += (out.empty() ? "" : ".") + labels[i];
  return out;
}

}  // namespace mxpulse::probes
