// SPDX-License-Identifier: Apache-2.0
#include "agent/inventory_types.hpp"

namespace mxpulse {

const char* inventoryKindName(InventoryKind kind) {
  switch (kind) {
    case InventoryKind::Domains:
      return "domains";
    case InventoryKind::Ips:
      return "ips";
    case InventoryKind::Endpoints:
      return "endpoints";
    case InventoryKind::DeliveryServers:
      return "delivery_servers";
  }
  return "domains";
}

std::optional<InventoryKind> parseInventoryKind(std::string_view name) {
  if (name == "domains") return InventoryKind::Domains;
  if (name == "ips") return InventoryKind::Ips;
  if (name == "endpoints") return InventoryKind::Endpoints;
  if (name == "delivery_servers") return InventoryKind::DeliveryServers;
  return std::nullopt;
}

const char* inventoryKeyField(InventoryKind kind) {
  switch (kind) {
    case InventoryKind::Domains:
      return "domain";
    case InventoryKind::Ips:
      return "ip";
    case InventoryKind::Endpoints:
      return "endpoint";
    case InventoryKind::DeliveryServers:
      return "server_id";
  }
  return "domain";
}

const std::vector<std::string>& inventoryFields(InventoryKind kind) {
  // domain: a sending domain, its DKIM selectors, the IPs that send for it
  // and the HELO name those IPs use. ips: a sending IP and its HELO name.
  // endpoints: host:port with the STARTTLS protocol and SNI name.
  // delivery_servers: a MailWizz delivery server and the IP it sends from.
  static const std::vector<std::string> domains = {"domain", "dkim_selectors", "ips", "helo"};
  static const std::vector<std::string> ips = {"ip", "helo", "domain"};
  static const std::vector<std::string> endpoints = {"endpoint", "starttls", "sni"};
  static const std::vector<std::string> servers = {"server_id", "ip", "hostname", "name"};
  switch (kind) {
    case InventoryKind::Domains:
      return domains;
    case InventoryKind::Ips:
      return ips;
    case InventoryKind::Endpoints:
      return endpoints;
    case InventoryKind::DeliveryServers:
      return servers;
  }
  return domains;
}

const std::string& InventoryItem::first(const std::string& field) const {
  static const std::string empty;
  auto it = fields.find(field);
  return it == fields.end() || it->second.empty() ? empty : it->second.front();
}

const std::vector<std::string>& InventoryItem::all(const std::string& field) const {
  static const std::vector<std::string> empty;
  auto it = fields.find(field);
  return it == fields.end() ? empty : it->second;
}

}  // namespace mxpulse
