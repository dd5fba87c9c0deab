// SPDX-License-Identifier: Apache-2.0
#include "probes/pmta_accounting.hpp"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <set>

namespace mxpulse::probes {

namespace {

constexpr std::uint64_t kFingerprintBytes = 4096;
constexpr size_t kMaxHeaderBytes = 64 * 1024;

std::string fnv1aHex(std::string_view data) {
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

/// Reads up to `len` bytes at `off`; returns what was read (short at EOF).
bool preadAll(int fd, std::uint64_t off, size_t len, std::string& out, std::string& error) {
  out.resize(len);
  size_t got = 0;
  while (got < len) {
    ssize_t n = pread(fd, &out[got], len - got, static_cast<off_t>(off + got));
    if (n < 0) {
      if (errno == EINTR) continue;
      error = std::strerror(errno);
      return false;
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return true;
}

std::string lowerAscii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int num(std::string_view s, size_t pos, size_t len) {
  int v = 0;
  for (size_t i = pos; i < pos + len; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

bool digitsAt(std::string_view s, size_t pos, size_t len) {
  if (pos + len > s.size()) return false;
  for (size_t i = pos; i < pos + len; ++i)
    if (s[i] < '0' || s[i] > '9') return false;
  return true;
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) close(fd);
  }
};

}  // namespace

bool parseCsvRecord(std::string_view text, size_t& pos, std::vector<std::string>& fields) {
  fields.clear();
  size_t i = pos;
  std::string field;
  bool quoted = false;
  bool fieldStarted = false;  // a quote is only special at the start of a field
  while (i < text.size()) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          i += 2;
          continue;
        }
        if (i + 1 >= text.size()) return false;  // cannot tell yet: "" or end of field
        quoted = false;
        ++i;
        continue;
      }
      field += c;
      ++i;
      continue;
    }
    if (c == '"' && !fieldStarted) {
      quoted = true;
      fieldStarted = true;
      ++i;
      continue;
    }
    if (c == ',') {
      fields.push_back(std::move(field));
      field.clear();
      fieldStarted = false;
      ++i;
      continue;
    }
    if (c == '\n' || c == '\r') {
      if (c == '\r') {
        if (i + 1 >= text.size()) return false;  // CR of a CRLF not yet written
        if (text[i + 1] == '\n') ++i;
      }
      fields.push_back(std::move(field));
      pos = i + 1;
      return true;
    }
    field += c;
    fieldStarted = true;
    ++i;
  }
  return false;  // no line end yet: the record is still being written
}

std::optional<std::int64_t> parseAcctTime(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  if (allDigits(s) && s.size() <= 12) return std::stoll(std::string(s));
  // YYYY-MM-DD[ T]HH:MM:SS[.fff][Z|±HHMM|±HH:MM]
  if (!digitsAt(s, 0, 4) || s.size() < 19 || s[4] != '-' || !digitsAt(s, 5, 2) || s[7] != '-' ||
      !digitsAt(s, 8, 2) || (s[10] != ' ' && s[10] != 'T') || !digitsAt(s, 11, 2) || s[13] != ':' ||
      !digitsAt(s, 14, 2) || s[16] != ':' || !digitsAt(s, 17, 2))
    return std::nullopt;
  struct tm tm {};
  tm.tm_year = num(s, 0, 4) - 1900;
  tm.tm_mon = num(s, 5, 2) - 1;
  tm.tm_mday = num(s, 8, 2);
  tm.tm_hour = num(s, 11, 2);
  tm.tm_min = num(s, 14, 2);
  tm.tm_sec = num(s, 17, 2);
  if (tm.tm_mon > 11 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 || tm.tm_min > 59 ||
      tm.tm_sec > 60)
    return std::nullopt;
  size_t i = 19;
  if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  }
  while (i < s.size() && s[i] == ' ') ++i;
  std::int64_t offset = 0;
  if (i < s.size()) {
    if (s[i] == 'Z' && i + 1 == s.size()) {
      offset = 0;
    } else if ((s[i] == '+' || s[i] == '-') && digitsAt(s, i + 1, 2)) {
      int sign = s[i] == '-' ? -1 : 1;
      int hh = num(s, i + 1, 2);
      size_t m = i + 3;
      if (m < s.size() && s[m] == ':') ++m;
      if (!digitsAt(s, m, 2) || m + 2 != s.size()) return std::nullopt;
      int mm = num(s, m, 2);
      offset = sign * (hh * 3600 + mm * 60);
    } else {
      return std::nullopt;
    }
  }
  return static_cast<std::int64_t>(timegm(&tm)) - offset;
}

AcctKind acctKindOf(std::string_view type) {
  std::string t = lowerAscii(std::string(type));
  if (t == "d" || t == "delivery" || t == "delivered") return AcctKind::Delivered;
  if (t == "b" || t == "bounce" || t == "rb" || t == "remote-bounce" || t == "remotebounce")
    return AcctKind::Bounced;
  if (t == "f" || t == "feedback-loop" || t == "fbl") return AcctKind::Complaint;
  return AcctKind::Other;
}

AcctReadResult readAccountingFile(const std::string& path, const std::optional<AcctCursor>& from,
                                  const AcctReadOptions& options,
                                  const std::function<void(const AcctRecord&)>& onRecord) {
  AcctReadResult out;
  Fd f;
  f.fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (f.fd < 0) {
    out.error = "cannot open " + path + ": " + std::strerror(errno);
    return out;
  }
  struct stat st {};
  if (fstat(f.fd, &st) != 0) {
    out.error = "cannot stat " + path + ": " + std::strerror(errno);
    return out;
  }
  const std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  AcctCursor cur;
  cur.device = static_cast<std::uint64_t>(st.st_dev);
  cur.inode = static_cast<std::uint64_t>(st.st_ino);
  std::uint64_t start = 0;
  std::string buf;
  if (from) {
    if (from->device != cur.device || from->inode != cur.inode) {
      out.restarted = "rotated (new inode)";
    } else if (size < from->offset || size < from->fpLen) {
      out.restarted = "truncated";
    } else {
      if (!preadAll(f.fd, 0, static_cast<size_t>(from->fpLen), buf, out.error)) {
        out.error = "cannot read " + path + ": " + out.error;
        return out;
      }
      if (fnv1aHex(buf) != from->fingerprint)
        out.restarted = "replaced (first bytes changed)";
      else
        start = from->offset;
    }
  }

  // The header names the columns; it is re-read on every call.
  std::string head;
  if (!preadAll(f.fd, 0, static_cast<size_t>(std::min<std::uint64_t>(size, kMaxHeaderBytes)), head,
                out.error)) {
    out.error = "cannot read " + path + ": " + out.error;
    return out;
  }
  std::vector<std::string> header;
  size_t headerEnd = 0;
  if (!parseCsvRecord(head, headerEnd, header)) {
    if (size >= kMaxHeaderBytes) {
      out.error = path + ": no header line in the first 64 KiB";
      return out;
    }
    // Empty or header still being written: nothing to read yet.
    cur.offset = 0;
    cur.size = size;
    out.cursor = cur;
    out.ok = true;
    return out;
  }
  if (header.empty() || lowerAscii(header[0]) != "type") {
    out.error = path + ": first line is not an accounting header (its first column is '" +
                (header.empty() ? std::string() : header[0]) + "', expected 'type')";
    return out;
  }
  std::vector<int> index;
  for (const auto& want : options.fields) {
    int found = -1;
    for (size_t i = 0; i < header.size(); ++i)
      if (lowerAscii(header[i]) == lowerAscii(want)) found = static_cast<int>(i);
    if (found < 0) out.missingFields.push_back(want);
    index.push_back(found);
  }
  start = std::max<std::uint64_t>(start, headerEnd);

  std::uint64_t want = size > start ? std::min<std::uint64_t>(size - start, options.maxBytes) : 0;
  std::string chunk;
  if (want > 0 && !preadAll(f.fd, start, static_cast<size_t>(want), chunk, out.error)) {
    out.error = "cannot read " + path + ": " + out.error;
    return out;
  }
  size_t pos = 0;
  std::vector<std::string> fields;
  AcctRecord rec;
  while (pos < chunk.size()) {
    size_t before = pos;
    if (!parseCsvRecord(chunk, pos, fields)) {
      pos = before;  // partial last record: next time
      break;
    }
    if (fields.size() == 1 && fields[0].empty()) continue;  // blank line
    if (fields.size() > header.size() || fields[0].empty()) {
      ++out.malformed;
      continue;
    }
    rec.type = fields[0];
    rec.kind = acctKindOf(rec.type);
    rec.values.assign(index.size(), std::string());
    for (size_t i = 0; i < index.size(); ++i)
      if (index[i] >= 0 && static_cast<size_t>(index[i]) < fields.size())
        rec.values[i] = fields[static_cast<size_t>(index[i])];
    ++out.records;
    onRecord(rec);
  }
  cur.offset = start + pos;
  cur.size = size;
  out.more = start + want < size;
  cur.fpLen = std::min<std::uint64_t>(size, kFingerprintBytes);
  if (!preadAll(f.fd, 0, static_cast<size_t>(cur.fpLen), buf, out.error)) {
    out.error = "cannot read " + path + ": " + out.error;
    return out;
  }
  cur.fingerprint = fnv1aHex(buf);
  out.cursor = cur;
  out.ok = true;
  return out;
}

std::vector<std::string> globFiles(const std::vector<std::string>& patterns) {
  std::set<std::string> files;
  for (const auto& p : patterns) {
    glob_t g{};
    if (glob(p.c_str(), GLOB_NOSORT, nullptr, &g) == 0) {
      for (size_t i = 0; i < g.gl_pathc; ++i) {
        struct stat st {};
        if (stat(g.gl_pathv[i], &st) == 0 && S_ISREG(st.st_mode)) files.insert(g.gl_pathv[i]);
      }
    }
    globfree(&g);
  }
  return {files.begin(), files.end()};
}

}  // namespace mxpulse::probes
