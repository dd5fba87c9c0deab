// SPDX-License-Identifier: Apache-2.0
// Times as services write them: Unix seconds, ISO 8601 / RFC 3339 and the
// SQL "YYYY-MM-DD HH:MM:SS" form (UTC unless an offset is given), e.g.
// google-auth's token.json `expiry` ("2026-05-01T12:34:56.123456Z" or
// without the fraction) and `expires_at` columns.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace mxpulse::probes {

/// Unix seconds (integer or fractional), or an ISO 8601 / SQL date-time
/// with optional fraction and Z / ±HH:MM / ±HHMM; nullopt otherwise.
std::optional<std::int64_t> parseTimestamp(const std::string& text);
/// "2026-05-01 12:34:56 UTC".
std::string formatUtc(std::int64_t unixTime);
/// strftime(`format`) of the UTC time (e.g. "%Y%m%dT%H%M%SZ").
std::string formatUtc(std::int64_t unixTime, const char* format);

}  // namespace mxpulse::probes
