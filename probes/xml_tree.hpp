// SPDX-License-Identifier: Apache-2.0
// A small, safe XML reader for service responses (PowerMTA status, SQS
// query-protocol replies): expat through Poco's SAX parser builds a plain
// element tree. Documents with a DTD are refused outright, so no entity
// can expand or reach outside; depth and element count are capped.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace mxpulse::probes {

struct XmlNode {
  std::string name;  ///< local name (any namespace prefix dropped)
  std::string text;  ///< character data directly inside, trimmed
  std::vector<XmlNode> children;

  /// First child named `n`, or nullptr.
  const XmlNode* child(const std::string& n) const;
  /// Text of the first child named `n`, or "".
  std::string childText(const std::string& n) const;
  /// First element named `n` anywhere below (depth-first), or nullptr.
  const XmlNode* find(const std::string& n) const;
};

struct XmlLimits {
  size_t maxDepth = 32;
  size_t maxElements = 1000000;
};

/// Parses `xml` into `root`; false with a one-line `error` otherwise.
bool parseXmlTree(const std::string& xml, XmlNode& root, std::string& error, XmlLimits limits = {});

}  // namespace mxpulse::probes
