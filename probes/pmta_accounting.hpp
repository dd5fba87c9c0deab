// SPDX-License-Identifier: Apache-2.0
// PowerMTA accounting files (acct-*.csv): RFC 4180 CSV whose first line
// names the columns. `record-fields` changes the set and order of columns,
// and a file configured for several record types holds the union of their
// columns (empty where a type has no such field), so every field is looked
// up by header name, never by position.
//
// Files are read incrementally: a cursor remembers device, inode, the
// offset after the last complete record, the size, and a fingerprint of
// the file's first bytes. A different inode/device, a smaller file or a
// changed fingerprint means rotation or truncation, and the file is read
// again from the start. A record still being written (no line end yet) is
// left for the next read.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mxpulse::probes {

/// Parses one CSV record starting at `pos`. Quoted fields may hold commas,
/// doubled quotes and line breaks. Returns false when the text ends before
/// the record's line end (an incomplete record); `pos` then is unchanged.
/// On success `pos` is just after the record's line end (LF or CRLF).
bool parseCsvRecord(std::string_view text, size_t& pos, std::vector<std::string>& fields);

/// "2012-06-12 00:11:57-0500", ISO 8601 ("2026-01-15T14:23:11+00:00", "...Z")
/// or Unix seconds ("1178807903"). nullopt if none of these.
std::optional<std::int64_t> parseAcctTime(std::string_view text);

enum class AcctKind { Delivered, Bounced, Complaint, Other };
/// d/delivery -> Delivered; b/bounce, rb/remote-bounce -> Bounced;
/// f/feedback-loop -> Complaint; everything else (t, tq, r, rs) -> Other.
AcctKind acctKindOf(std::string_view type);

struct AcctCursor {
  std::uint64_t device = 0, inode = 0;
  std::uint64_t offset = 0;  ///< first byte not yet consumed
  std::uint64_t size = 0;    ///< file size at the last read
  std::uint64_t fpLen = 0;   ///< bytes covered by the fingerprint
  std::string fingerprint;   ///< hex FNV-1a 64 of the first fpLen bytes
};

/// One record, with the fields the caller asked for by header name.
struct AcctRecord {
  std::string type;
  AcctKind kind = AcctKind::Other;
  std::vector<std::string> values;  ///< in the order of AcctReadOptions::fields ("" if absent)
};

struct AcctReadOptions {
  std::vector<std::string> fields;       ///< header names to extract, e.g. dlvSourceIp
  std::uint64_t maxBytes = 64ull << 20;  ///< read at most this much per call
};

struct AcctReadResult {
  bool ok = false;
  std::string error;      ///< when !ok (file unreadable, no header)
  AcctCursor cursor;      ///< where the next read starts
  std::string restarted;  ///< "", or why reading began again at 0 (rotated, truncated, replaced)
  std::uint64_t records = 0;               ///< data records handed to the callback
  std::uint64_t malformed = 0;             ///< records that did not parse (skipped)
  bool more = false;                       ///< maxBytes was reached; call again for the rest
  std::vector<std::string> missingFields;  ///< asked-for fields the header lacks
};

/// Reads the records after `from` (or from the start when absent) and
/// hands each to `onRecord`. Never throws.
AcctReadResult readAccountingFile(const std::string& path, const std::optional<AcctCursor>& from,
                                  const AcctReadOptions& options,
                                  const std::function<void(const AcctRecord&)>& onRecord);

/// Files matching shell glob patterns, sorted, without duplicates.
std::vector<std::string> globFiles(const std::vector<std::string>& patterns);

}  // namespace mxpulse::probes
