// SPDX-License-Identifier: Apache-2.0
// oauth_expiry: how long until each OAuth token expires, and whether a
// refresh token is still accepted.
//
// What it checks
//   oauth_token          per source (`tokens`) and per SQL row: the expiry of
//                        a google-auth token.json's access token (`expiry`,
//                        both timestamp forms), of a JWT (`exp`) read from a
//                        file or an environment variable, or of a row
//                        (name, expires_at) returned by a SQL query.
//   oauth_refresh_token  per token.json with a refresh_token: how long it has
//                        been seen (first seen, kept in the state DB by the
//                        token's fingerprint = SHA-256 prefix, never the
//                        token), against the 7-day life of refresh tokens of
//                        Google apps in "Testing" status; optionally a live
//                        refresh at the token endpoint.
// Standards: RFC 6749 §5.2/§6 (refresh grant, invalid_grant), RFC 7519 §4.1.4
//   (exp as NumericDate), google-auth's token.json (reference/formats.md §4).
//
// Severity (two tiers, like the SES forwarding pipeline's alarms)
//   expires in <= crit_before (6h) or already expired  -> critical
//   expires in <= warn_before (24h)                    -> warning
//   token.json with a refresh_token: the access token's expiry is reported
//     but not judged (the application refreshes it); the refresh token is:
//   testing app, refresh token seen >= refresh_token_lifetime (7d) -> critical
//   testing app, less than refresh_token_warn_before (1d) left     -> warning
//   testing app, age not tracked (no state DB, ad hoc) and no probe -> unknown
//   live probe: invalid_grant -> critical; invalid_client and other 4xx
//     errors -> critical; 5xx/unreachable -> unknown (the age rule still
//     applies); accepted -> ok (also past day 7: the app is not in Testing)
//   a source that cannot be read or parsed, a failing SQL query -> unknown
//
// Metrics (gauges; `job` label added by the framework; `name` is the
//   configured token name, or "<source>/<row name>" for SQL rows, at most
//   max_rows per source)
//   mxpulse_oauth_token_expiry_timestamp_seconds{name}
//   mxpulse_oauth_refresh_token_first_seen_timestamp_seconds{name}
//   mxpulse_oauth_refresh_token_expiry_timestamp_seconds{name}  first seen +
//     lifetime (testing apps, when tracked)
//   mxpulse_oauth_refresh_probe_accepted{name}   1/0, when probed and answered
//   mxpulse_oauth_token_read_error{name} = 1     source unreadable or unparsable
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/job.hpp"
#include "jobs/plumb_common.hpp"
#include "probes/token_sources.hpp"

namespace mxpulse::jobs {

enum class TokenSourceKind { GoogleTokenJson, JwtFile, JwtEnv };

struct OAuthTokenSpec {
  std::string name;
  TokenSourceKind kind = TokenSourceKind::GoogleTokenJson;
  std::string location;    ///< file path, or environment variable name
  bool testingApp = true;  ///< 7-day refresh tokens apply (token.json only)
  bool liveProbe = false;
  std::string tokenEndpoint = "https://oauth2.googleapis.com/token";
};

struct OAuthSqlSpec {
  std::string name;
  SqlSourceSpec source;
  size_t maxRows = 100;
};

struct OAuthExpiryParams {
  std::int64_t warnBefore = 24 * 3600;
  std::int64_t critBefore = 6 * 3600;
  std::int64_t refreshLifetime = 7 * 86400;  ///< 0 = off
  std::int64_t refreshWarnBefore = 86400;
  std::vector<OAuthTokenSpec> tokens;
  std::vector<OAuthSqlSpec> sql;
  std::string stateDb;  ///< from JobBuildEnv; "" = first-seen not tracked
};

struct TokenObservation {
  const OAuthTokenSpec* spec = nullptr;
  bool ok = false;
  std::string error;
  std::optional<std::int64_t> expiry;
  std::string expiryText;
  bool hasRefreshToken = false;
  std::string fingerprint;  ///< of the refresh token
  bool stateRead = false;   ///< the first-seen table could be read
  std::string stateError;
  std::optional<std::int64_t> firstSeen;  ///< stored; nullopt = new (or not read)
  std::optional<probes::RefreshProbe> probe;
};

struct SqlTokenRow {
  std::string name;
  std::optional<std::int64_t> expiry;
  std::string expiryText;
};

struct SqlObservation {
  const OAuthSqlSpec* spec = nullptr;
  bool ok = false;
  std::string error;
  std::vector<SqlTokenRow> rows;
  bool truncated = false;
};

struct OAuthObservations {
  std::vector<TokenObservation> tokens;
  std::vector<SqlObservation> sql;
};

std::optional<OAuthExpiryParams> parseOAuthExpiryParams(MapReader& params, const JobBuildEnv& env);
/// Pure: results, samples, and the first-seen upserts for the store.
JobOutput evaluateOAuthExpiry(const OAuthExpiryParams& params, const OAuthObservations& obs,
                              std::int64_t now);
OAuthObservations observeOAuthExpiry(const OAuthExpiryParams& params, Deadline deadline);

JobKind oauthExpiryKind();

}  // namespace mxpulse::jobs
