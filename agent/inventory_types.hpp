// SPDX-License-Identifier: Apache-2.0
// What jobs check: named lists of targets, written in YAML or produced by a
// SQL query. Every item is a set of named fields with one or more values
// (a domain with several DKIM selectors and sending IPs, say).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxpulse {

enum class InventoryKind { Domains, Ips, Endpoints, DeliveryServers };

const char* inventoryKindName(InventoryKind kind);
std::optional<InventoryKind> parseInventoryKind(std::string_view name);
/// The field every item of the kind must have, and its identity.
const char* inventoryKeyField(InventoryKind kind);
/// The fields items of this kind may carry (anything else is a config error).
const std::vector<std::string>& inventoryFields(InventoryKind kind);

struct InventoryItem {
  std::map<std::string, std::vector<std::string>> fields;

  /// First value of `field`, or "" if absent.
  const std::string& first(const std::string& field) const;
  /// All values of `field` (empty if absent).
  const std::vector<std::string>& all(const std::string& field) const;
};

/// An inventory as a job sees it during one run.
struct InventorySnapshot {
  std::string name;
  InventoryKind kind = InventoryKind::Domains;
  std::vector<InventoryItem> items;
  /// Set when the source failed this time: `items` are then the last good
  /// ones (possibly none) and this says why.
  std::string error;
  std::int64_t fetchedAt = 0;  // unix seconds of the items' fetch
};

}  // namespace mxpulse
