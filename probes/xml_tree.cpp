// SPDX-License-Identifier: Apache-2.0
#include "probes/xml_tree.hpp"

#include <Poco/SAX/Attributes.h>
#include <Poco/SAX/DefaultHandler.h>
#include <Poco/SAX/SAXException.h>
#include <Poco/SAX/SAXParser.h>
#include <Poco/XML/XMLException.h>

namespace mxpulse::probes {

namespace {

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

class TreeBuilder : public Poco::XML::DefaultHandler {
 public:
  TreeBuilder(XmlNode& root, XmlLimits limits) : root_(root), limits_(limits) {}

  void startElement(const Poco::XML::XMLString&, const Poco::XML::XMLString& localName,
                    const Poco::XML::XMLString& qname, const Poco::XML::Attributes&) override {
    // Over a limit: remember why and skip the rest (throwing through
    // expat's C callbacks is not safe).
    if (!refused_.empty() || skipDepth_ > 0) {
      ++skipDepth_;
      return;
    }
    if (stack_.size() >= limits_.maxDepth)
      refused_ = "nesting deeper than " + std::to_string(limits_.maxDepth);
    else if (++elements_ > limits_.maxElements)
      refused_ = "more than " + std::to_string(limits_.maxElements) + " elements";
    if (!refused_.empty()) {
      ++skipDepth_;
      return;
    }
    std::string name = localName.empty() ? qname : localName;
    size_t colon = name.find(':');
    if (colon != std::string::npos) name = name.substr(colon + 1);
    XmlNode* node;
    if (stack_.empty()) {
      node = &root_;
    } else {
      stack_.back()->children.emplace_back();
      node = &stack_.back()->children.back();
    }
    node->name = name;
    stack_.push_back(node);
  }
  void endElement(const Poco::XML::XMLString&, const Poco::XML::XMLString&,
                  const Poco::XML::XMLString&) override {
    if (skipDepth_ > 0) {
      --skipDepth_;
      return;
    }
    stack_.back()->text = trim(stack_.back()->text);
    stack_.pop_back();
  }
  void characters(const Poco::XML::XMLChar ch[], int start, int length) override {
    if (skipDepth_ == 0 && !stack_.empty())
      stack_.back()->text.append(ch + start, static_cast<size_t>(length));
  }

 private:
  XmlNode& root_;
  XmlLimits limits_;
  std::vector<XmlNode*> stack_;  // children vectors only grow at the back
  size_t elements_ = 0;
  size_t skipDepth_ = 0;

 public:
  std::string refused_;
};

}  // namespace

const XmlNode* XmlNode::child(const std::string& n) const {
  for (const auto& c : children)
    if (c.name == n) return &c;
  return nullptr;
}

std::string XmlNode::childText(const std::string& n) const {
  const XmlNode* c = child(n);
  return c ? c->text : "";
}

const XmlNode* XmlNode::find(const std::string& n) const {
  for (const auto& c : children) {
    if (c.name == n) return &c;
    if (const XmlNode* f = c.find(n)) return f;
  }
  return nullptr;
}

bool parseXmlTree(const std::string& xml, XmlNode& root, std::string& error, XmlLimits limits) {
  root = XmlNode{};
  if (xml.find("<!DOCTYPE") != std::string::npos || xml.find("<!ENTITY") != std::string::npos) {
    error = "XML with a DTD is not accepted";
    return false;
  }
  if (trim(xml).empty()) {
    error = "empty document";
    return false;
  }
  TreeBuilder builder(root, limits);
  Poco::XML::SAXParser parser;
  try {
    parser.setFeature(Poco::XML::XMLReader::FEATURE_NAMESPACES, false);
    parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_GENERAL_ENTITIES, false);
    parser.setFeature(Poco::XML::XMLReader::FEATURE_EXTERNAL_PARAMETER_ENTITIES, false);
    parser.setContentHandler(&builder);
    parser.parseString(xml);
  } catch (const Poco::Exception& e) {
    error = "malformed XML: " + e.message();
    return false;
  }
  if (!builder.refused_.empty()) {
    error = "XML refused: " + builder.refused_;
    return false;
  }
  if (root.name.empty()) {
    error = "no root element";
    return false;
  }
  return true;
}

}  // namespace mxpulse::probes
