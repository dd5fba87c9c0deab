// SPDX-License-Identifier: Apache-2.0
#include "agent/inventory.hpp"

#include <algorithm>
#include <set>

#include <unistd.h>

#include "agent/log.hpp"
#include "agent/store/state_store.hpp"
#include "agent/extension.hpp"
#include "probes/sqlite_query.hpp"

namespace mxpulse {

InventoryService::InventoryService(const AgentConfig& config)
    : stateDbPath_(config.agent.stateDb),
      inventories_(config.inventories),
      connections_(config.connections) {}

void InventoryService::attachCache(const std::string& stateDbPath) {
  stateDbPath_ = stateDbPath;
  std::string error;
  if (!cache_.open(stateDbPath, SqliteDb::Mode::ReadWriteCreate, error)) {
    log::warning("inventory cache unavailable: " + error);
    return;
  }
  SqliteStmt st = cache_.prepare("SELECT name, items, fetched_at FROM inventory_cache", error);
  if (!st) return;
  std::lock_guard<std::mutex> lock(mutex_);
  while (st.step() == SQLITE_ROW) {
    auto it = inventories_.find(st.text(0));
    if (it == inventories_.end()) continue;
    InventorySnapshot snap;
    snap.name = it->first;
    snap.kind = it->second.kind;
    snap.items = decodeInventory(st.text(1));
    snap.fetchedAt = st.int64(2);
    lastGood_[snap.name] = std::move(snap);
  }
}

namespace {
bool multiValued(const std::string& field) { return field == "ips" || field == "dkim_selectors"; }

std::vector<std::string> splitValues(const std::string& text, bool multi) {
  std::vector<std::string> out;
  if (!multi) {
    std::string v = text;
    v.erase(0, v.find_first_not_of(" \t\r\n"));
    v.erase(v.find_last_not_of(" \t\r\n") + 1);
    if (!v.empty()) out.push_back(v);
    return out;
  }
  std::string cur;
  for (char c : text) {
    if (c == ',' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}
}  // namespace

bool rowsToItems(const probes::SqlRows& rows, InventoryKind kind,
                 std::vector<InventoryItem>& items, std::string& error) {
  const auto& allowed = inventoryFields(kind);
  const std::string key = inventoryKeyField(kind);
  bool hasKey = false;
  for (const auto& c : rows.columns) {
    if (std::find(allowed.begin(), allowed.end(), c) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      error = "column '" + c + "' is not a field of " + inventoryKindName(kind) +
              " inventories (use AS to name columns: " + list + ")";
      return false;
    }
    hasKey = hasKey || c == key;
  }
  if (!hasKey) {
    error = "the query must return a column named '" + key + "'";
    return false;
  }
  std::map<std::string, size_t> byKey;
  for (const auto& row : rows.rows) {
    InventoryItem item;
    for (size_t i = 0; i < rows.columns.size() && i < row.size(); ++i) {
      if (!row[i]) continue;
      for (auto& v : splitValues(*row[i], multiValued(rows.columns[i]))) {
        // Control characters in a value would corrupt messages and the cache.
        v.erase(std::remove_if(v.begin(), v.end(),
                               [](char c) { return static_cast<unsigned char>(c) < 0x20; }),
                v.end());
        item.fields[rows.columns[i]].push_back(v);
      }
    }
    const std::string& k = item.first(key);
    if (k.empty()) continue;  // a NULL key identifies nothing
    // Rows with the same key merge (e.g. one row per IP of a domain).
    auto it = byKey.find(k);
    if (it == byKey.end()) {
      byKey[k] = items.size();
      items.push_back(std::move(item));
    } else {
      auto& existing = items[it->second];
      for (auto& [field, values] : item.fields) {
        if (field == key) continue;
        auto& dst = existing.fields[field];
        for (auto& v : values)
          if (std::find(dst.begin(), dst.end(), v) == dst.end()) dst.push_back(v);
      }
    }
  }
  return true;
}

probes::SqlRows InventoryService::query(const InventoryConfig& inv, Deadline deadline) {
  Deadline bounded = deadline.capped(inv.timeout);
  if (inv.connection == "state") return probes::sqliteQueryReadOnly(stateDbPath_, inv.query, bounded);
  auto it = connections_.find(inv.connection);
  probes::SqlRows missing;
  if (it == connections_.end()) {
    missing.error = "unknown connection " + inv.connection;
    return missing;
  }
  const ConnectionConfig& c = it->second;
  if (c.driver == SqlDriver::Sqlite) return probes::sqliteQueryReadOnly(c.path, inv.query, bounded);
  probes::MysqlParams p{c.host, c.port, c.socket, c.user, c.password, c.database};
  return ext::mysqlQueryReadOnly(p, inv.query, bounded.capped(c.timeout));
}

InventorySnapshot InventoryService::snapshot(const std::string& name, Deadline deadline,
                                             std::int64_t now) {
  InventorySnapshot snap;
  snap.name = name;
  auto it = inventories_.find(name);
  if (it == inventories_.end()) {
    snap.error = "inventory '" + name + "' is not configured";
    return snap;
  }
  const InventoryConfig& inv = it->second;
  snap.kind = inv.kind;
  if (inv.query.empty()) {
    snap.items = inv.items;
    snap.fetchedAt = now;
    return snap;
  }
  probes::SqlRows rows = query(inv, deadline);
  std::string error = rows.error;
  std::vector<InventoryItem> items;
  if (rows.ok && !rowsToItems(rows, inv.kind, items, error)) rows.ok = false;
  std::lock_guard<std::mutex> lock(mutex_);
  if (rows.ok) {
    snap.items = std::move(items);
    snap.fetchedAt = now;
    lastGood_[name] = snap;
    if (cache_.isOpen()) {
      std::string detail;
      SqliteStmt st = cache_.prepare(
          "INSERT INTO inventory_cache (name, items, fetched_at) VALUES (?,?,?) ON CONFLICT (name) "
          "DO UPDATE SET items = excluded.items, fetched_at = excluded.fetched_at",
          detail);
      if (st) {
        st.bind(1, name).bind(2, encodeInventory(snap.items)).bind(3, now);
        if (!st.run()) log::warning("inventory cache write failed: " + cache_.lastError());
      }
    }
    return snap;
  }
  auto good = lastGood_.find(name);
  if (good != lastGood_.end()) {
    snap.items = good->second.items;
    snap.fetchedAt = good->second.fetchedAt;
  }
  snap.error = error.empty() ? "query failed" : error;
  return snap;
}

std::vector<std::string> InventoryService::checkQueries(bool online) {
  std::vector<std::string> problems;
  for (const auto& [name, inv] : inventories_) {
    if (inv.query.empty()) continue;
    std::string why;
    if (inv.connection == "state") {
      // The state DB may not exist yet on a fresh install; nothing to check.
      if (access(stateDbPath_.c_str(), R_OK) == 0) why = probes::sqliteCheckQuery(stateDbPath_, inv.query);
    } else {
      const ConnectionConfig& c = connections_.at(inv.connection);
      if (c.driver == SqlDriver::Sqlite) {
        why = probes::sqliteCheckQuery(c.path, inv.query);
      } else if (online) {
        probes::MysqlParams p{c.host, c.port, c.socket, c.user, c.password, c.database};
        // LIMIT 0 runs the statement through the parser and planner cheaply.
        auto rows = ext::mysqlQueryReadOnly(
            p, "SELECT * FROM (" + inv.query + ") AS mxpulse_check LIMIT 0", Deadline::in(c.timeout));
        if (!rows.ok) why = rows.error;
        else {
          std::vector<InventoryItem> none;
          rowsToItems(rows, inv.kind, none, why);
        }
      }
    }
    if (!why.empty()) problems.push_back("inventories." + name + ".query: " + why);
  }
  return problems;
}

}  // namespace mxpulse
