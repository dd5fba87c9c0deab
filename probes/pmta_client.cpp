// SPDX-License-Identifier: Apache-2.0
#include "probes/pmta_client.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>

#include "probes/bounded_exec.hpp"
#include "probes/bounded_http.hpp"
#include "probes/xml_tree.hpp"

namespace mxpulse::probes {

namespace {

void flatten(const XmlNode& node, const std::string& prefix, PmtaKeys& out) {
  std::map<std::string, int> counters;
  for (const auto& c : node.children) {
    bool listed = c.name == "event" || c.name == "disabledSource" ||
                  (prefix.empty() && (c.name == "queue" || c.name == "domain" || c.name == "vmta"));
    std::string key = prefix.empty() ? c.name : prefix + "." + c.name;
    if (listed) key += "[" + std::to_string(counters[c.name]++) + "]";
    if (c.children.empty())
      out[key] = c.text;
    else
      flatten(c, key, out);
  }
}

double number(const PmtaKeys& keys, const std::string& key) {
  auto it = keys.find(key);
  if (it == keys.end()) return 0;
  std::string digits;
  for (char c : it->second)
    if (c != ',' && c != ' ') digits.push_back(c);
  char* end = nullptr;
  double v = std::strtod(digits.c_str(), &end);
  return end && end != digits.c_str() ? v : 0;
}

std::int64_t integer(const PmtaKeys& keys, const std::string& key) {
  return static_cast<std::int64_t>(number(keys, key));
}

bool yes(const std::string& v) {
  return v == "yes" || v == "true" || v == "1";
}

/// "queue[12].event[3].text" with prefix "queue" -> (12, "event[3].text").
bool splitIndexed(const std::string& key, const std::string& prefix, int& index,
                  std::string& rest) {
  if (key.compare(0, prefix.size() + 1, prefix + "[") != 0) return false;
  size_t close = key.find(']', prefix.size());
  if (close == std::string::npos) return false;
  index = std::atoi(key.substr(prefix.size() + 1, close - prefix.size() - 1).c_str());
  rest = close + 1 < key.size() && key[close + 1] == '.' ? key.substr(close + 2) : "";
  return true;
}

void traffic(const PmtaKeys& keys, const std::string& period, PmtaTraffic& t) {
  std::string p = "status.traffic." + period + ".";
  t.inRcp = number(keys, p + "in.rcp");
  t.inMsg = number(keys, p + "in.msg");
  t.inKb = number(keys, p + "in.kb");
  t.outRcp = number(keys, p + "out.rcp");
  t.outMsg = number(keys, p + "out.msg");
  t.outKb = number(keys, p + "out.kb");
}

/// GET base+path, returning the body or "" with `error`.
std::string fetch(const PmtaHttpSettings& s, const std::string& path, Deadline deadline,
                  std::string& error) {
  HttpRequest req;
  req.url = s.baseUrl + path;
  req.basicUser = s.user;
  req.basicPassword = s.password;
  req.maxBodyBytes = s.maxBytes;
  HttpResponse resp = httpRequest(req, deadline);
  if (!resp.ok) {
    error = resp.error;
    return "";
  }
  if (resp.status != 200) {
    error = "HTTP " + std::to_string(resp.status) + " " + resp.reason;
    return "";
  }
  if (resp.body.empty()) error = "empty response";
  return resp.body;
}

bool fetchKeys(const PmtaHttpSettings& s, const std::string& path, Deadline deadline,
               PmtaKeys& keys, std::string& error) {
  std::string body = fetch(s, path, deadline, error);
  if (!error.empty()) {
    error = path.substr(0, path.find('?')) + ": " + error;
    return false;
  }
  if (!flattenPmtaXml(body, keys, error)) {
    error = path.substr(0, path.find('?')) + ": " + error;
    return false;
  }
  return true;
}

std::string trimBase(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace

bool flattenPmtaXml(const std::string& xml, PmtaKeys& out, std::string& error) {
  XmlNode root;
  if (!parseXmlTree(xml, root, error)) return false;
  const XmlNode* data = root.name == "data" ? &root : root.child("data");
  if (root.name != "rsp" && root.name != "data") {
    error = "unexpected root element <" + root.name + "> (want <rsp>)";
    return false;
  }
  if (!data) {
    error = "no <data> in the response";
    return false;
  }
  flatten(*data, "", out);
  return true;
}

PmtaKeys parsePmtaDom(const std::string& textIn) {
  PmtaKeys out;
  size_t pos = 0;
  while (pos < textIn.size()) {
    size_t end = textIn.find('\n', pos);
    if (end == std::string::npos) end = textIn.size();
    std::string line = textIn.substr(pos, end - pos);
    pos = end + 1;
    size_t eq = line.find("=\"");
    size_t last = line.rfind('"');
    if (eq == std::string::npos || last == std::string::npos || last <= eq + 1) continue;
    std::string key = line.substr(0, eq);
    key.erase(0, key.find_first_not_of(" \t"));
    if (key.empty()) continue;
    out[key] = line.substr(eq + 2, last - eq - 2);
  }
  return out;
}

std::optional<std::int64_t> parsePmtaTime(const std::string& t) {
  if (t.empty()) return std::nullopt;
  if (std::all_of(t.begin(), t.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return std::strtoll(t.c_str(), nullptr, 10);
  std::tm tm{};
  const char* end = strptime(t.c_str(), "%Y-%m-%d %H:%M:%S", &tm);
  if (!end) return std::nullopt;
  tm.tm_isdst = -1;  // PowerMTA prints the host's local time
  std::time_t v = std::mktime(&tm);
  if (v == static_cast<std::time_t>(-1)) return std::nullopt;
  return static_cast<std::int64_t>(v);
}

void readPmtaStatus(const PmtaKeys& keys, PmtaSnapshot& snap) {
  snap.queuedRecipients = 0;
  snap.queuedKb = 0;
  snap.queuedByKind.clear();
  std::int64_t messages = 0;
  bool haveMessages = false;
  const std::string prefix = "status.queue.";
  for (auto it = keys.lower_bound(prefix);
       it != keys.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    std::string rest = it->first.substr(prefix.size());  // "smtp.rcp"
    size_t dot = rest.find('.');
    if (dot == std::string::npos) continue;
    std::string kind = rest.substr(0, dot), field = rest.substr(dot + 1);
    if (field == "rcp") {
      std::int64_t v = integer(keys, it->first);
      snap.queuedByKind[kind] = v;
      snap.queuedRecipients += v;
    } else if (field == "msg") {
      messages += integer(keys, it->first);
      haveMessages = true;
    } else if (field == "kb") {
      snap.queuedKb += number(keys, it->first);
    }
  }
  snap.queuedMessages = haveMessages ? std::optional<std::int64_t>(messages) : std::nullopt;
  snap.connectionsIn = integer(keys, "status.conn.smtpIn.cur");
  snap.connectionsOut = integer(keys, "status.conn.smtpOut.cur");
  traffic(keys, "total", snap.total);
  traffic(keys, "lastHr", snap.lastHour);
  traffic(keys, "lastMin", snap.lastMinute);
}

std::vector<PmtaQueue> readPmtaQueues(const PmtaKeys& keys) {
  std::map<int, PmtaQueue> byIndex;
  std::map<std::pair<int, int>, PmtaEvent> events;
  std::map<std::pair<int, int>, std::string> sources;
  for (const auto& [key, value] : keys) {
    int i = 0;
    std::string field;
    if (!splitIndexed(key, "queue", i, field)) continue;
    PmtaQueue& q = byIndex[i];
    int j = 0;
    std::string sub;
    if (field == "name")
      q.name = value;
    else if (field == "rcp")
      q.recipients = integer(keys, key);
    else if (field == "kb")
      q.kb = number(keys, key);
    else if (field == "conn")
      q.connections = integer(keys, key);
    else if (field == "paused")
      q.paused = yes(value);
    else if (field == "mode")
      q.mode = value;
    else if (field == "backoffReason")
      q.backoffReason = value;
    else if (field == "retryTime")
      q.retryTime = value;
    else if (field == "oldest")
      q.oldestTime = parsePmtaTime(value);
    else if (splitIndexed(field, "event", j, sub)) {
      PmtaEvent& e = events[{i, j}];
      if (sub == "type")
        e.type = value;
      else if (sub == "time")
        e.time = value;
      else if (sub == "text")
        e.text = value;
    } else if (splitIndexed(field, "disabledSource", j, sub)) {
      if (sub.empty() || sub == "ip" || sub == "name") sources[{i, j}] = value;
    }
  }
  for (auto& [ij, e] : events) byIndex[ij.first].events.push_back(std::move(e));
  for (auto& [ij, s] : sources)
    if (!s.empty()) byIndex[ij.first].disabledSources.push_back(std::move(s));
  std::vector<PmtaQueue> out;
  for (auto& [i, q] : byIndex) {
    if (q.name.empty()) continue;
    size_t slash = q.name.find('/');
    q.domain = q.name.substr(0, slash);
    q.vmta = slash == std::string::npos ? "" : q.name.substr(slash + 1);
    if (q.backoff() && q.backoffReason.empty() && !q.events.empty())
      q.backoffReason = q.events.front().text;  // the newest event comes first
    out.push_back(std::move(q));
  }
  return out;
}

std::vector<PmtaGroup> readPmtaGroups(const PmtaKeys& keys, const std::string& prefix) {
  std::map<int, PmtaGroup> byIndex;
  for (const auto& [key, value] : keys) {
    int i = 0;
    std::string field;
    if (!splitIndexed(key, prefix, i, field)) continue;
    PmtaGroup& g = byIndex[i];
    if (field == "name")
      g.name = value;
    else if (field == "rcp")
      g.recipients = integer(keys, key);
    else if (field == "kb")
      g.kb = number(keys, key);
    else if (field == "conn")
      g.connections = integer(keys, key);
    else if (field == "oldest")
      g.oldestTime = parsePmtaTime(value);
  }
  std::vector<PmtaGroup> out;
  for (auto& [i, g] : byIndex)
    if (!g.name.empty()) out.push_back(std::move(g));
  return out;
}

std::vector<PmtaGroup> groupPmtaQueues(const std::vector<PmtaQueue>& queues, bool byDomain) {
  std::map<std::string, PmtaGroup> groups;
  for (const auto& q : queues) {
    const std::string& name = byDomain ? q.domain : q.vmta;
    if (name.empty()) continue;
    PmtaGroup& g = groups[name];
    g.name = name;
    g.recipients += q.recipients;
    g.kb += q.kb;
    g.connections += q.connections;
    if (q.oldestTime && (!g.oldestTime || *q.oldestTime < *g.oldestTime))
      g.oldestTime = q.oldestTime;
  }
  std::vector<PmtaGroup> out;
  for (auto& [n, g] : groups) out.push_back(std::move(g));
  return out;
}

PmtaSnapshot readPmtaHttp(const PmtaHttpSettings& settings, Deadline deadline) {
  PmtaSnapshot snap;
  snap.source = "http";
  PmtaHttpSettings s = settings;
  s.baseUrl = trimBase(s.baseUrl);
  PmtaKeys status;
  std::string error;
  if (!fetchKeys(s, "/status?format=xml", deadline, status, error)) {
    snap.error = error;
    return snap;
  }
  readPmtaStatus(status, snap);
  snap.ok = true;

  PmtaKeys queues;
  if (fetchKeys(s, "/queues?format=xml&maxItems=" + std::to_string(s.maxQueues), deadline, queues,
                error)) {
    snap.queues = readPmtaQueues(queues);
    snap.haveQueues = true;
  } else {
    snap.problems.push_back(error);
  }
  error.clear();
  PmtaKeys domains;
  if (fetchKeys(s, "/domains?format=xml", deadline, domains, error)) {
    snap.domains = readPmtaGroups(domains, "domain");
    snap.haveDomains = true;
  } else {
    snap.problems.push_back(error);
    if (snap.haveQueues) {
      snap.domains = groupPmtaQueues(snap.queues, true);
      snap.haveDomains = true;
    }
  }
  error.clear();
  PmtaKeys vmtas;
  if (fetchKeys(s, "/vmtas?format=xml", deadline, vmtas, error)) {
    snap.vmtas = readPmtaGroups(vmtas, "vmta");
    snap.haveVmtas = true;
  } else {
    snap.problems.push_back(error);
    if (snap.haveQueues) {
      snap.vmtas = groupPmtaQueues(snap.queues, false);
      snap.haveVmtas = true;
    }
  }
  return snap;
}

PmtaSnapshot readPmtaCli(const PmtaCliSettings& settings, Deadline deadline) {
  PmtaSnapshot snap;
  snap.source = "cli";
  std::vector<std::string> argv = settings.command;
  for (const char* a : {"--dom", "show", "status"}) argv.emplace_back(a);
  ExecResult status = runBounded(argv, deadline, settings.maxBytes);
  if (!status.error.empty()) {
    snap.error = status.error;
    return snap;
  }
  PmtaKeys keys = parsePmtaDom(status.out);
  if (keys.empty()) {
    snap.error = "`pmta --dom show status` printed nothing usable";
    return snap;
  }
  readPmtaStatus(keys, snap);
  snap.ok = true;

  argv = settings.command;
  for (const char* a : {"--dom", "show", "topqueues"}) argv.emplace_back(a);
  argv.push_back("--maxitems=" + std::to_string(settings.maxQueues));
  argv.emplace_back("--errors");
  ExecResult queues = runBounded(argv, deadline, settings.maxBytes);
  if (!queues.error.empty()) {
    snap.problems.push_back("topqueues: " + queues.error);
    return snap;
  }
  snap.queues = readPmtaQueues(parsePmtaDom(queues.out));
  snap.haveQueues = snap.haveDomains = snap.haveVmtas = true;
  snap.domains = groupPmtaQueues(snap.queues, true);
  snap.vmtas = groupPmtaQueues(snap.queues, false);
  return snap;
}

}  // namespace mxpulse::probes
