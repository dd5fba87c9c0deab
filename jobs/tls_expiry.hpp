// SPDX-License-Identifier: Apache-2.0
// tls_expiry: certificates of our TLS endpoints and of local certificate files.
//
// What it checks
//   tls_endpoint  per endpoint (params `endpoints` and/or an `endpoints`
//                 inventory): connects with implicit TLS (465, 993, 995,
//                 443, any port) or STARTTLS (SMTP on 25/587, IMAP on 143,
//                 POP3 on 110, or as configured), SNI = the host name or
//                 the configured `sni`, and collects the served chain even
//                 when it does not verify. Reports the leaf's not_after,
//                 days left, subject, issuer and SANs; whether the chain
//                 verifies against the system store (or `ca_file`); whether
//                 the name matches; and the expiry of the *verified* chain
//                 (earliest not_after of the certificates in the chain that
//                 verified, so an expired cross-sign the chain does not use
//                 is no alarm; blackbox_exporter#340, check_ssl_cert#319).
//   tls_file      per PEM file (`files`): the same expiry facts for the
//                 file's first certificate and the chain built from it.
// Standards: RFC 3207 (SMTP STARTTLS), RFC 2595 (IMAP/POP3 STARTTLS),
//   RFC 5280 (path validation), RFC 6125 (name matching: SAN dNSName and
//   iPAddress; CN only without DNS SANs; no partial wildcards).
//
// Severity (thresholds in days; default warn 21, crit 7)
//   the deciding expiry is the verified chain's when the chain verifies,
//   else the leaf's:
//     expired, or not yet valid                   -> critical
//     fewer than crit_days left                   -> critical
//     fewer than warn_days left                   -> warning
//   chain does not verify (require_trusted)       -> critical
//   name does not match (require_name_match)      -> critical
//   STARTTLS not offered, or offered but refused  -> critical: these are our
//     own servers; without STARTTLS submission clients fail and MTA-STS or
//     DANE senders cannot deliver, while opportunistic senders silently
//     send in clear text. Configure `starttls: none` for a plain port.
//   no answer, refused connection, DNS failure, timeout, greeting refused
//     (421/554, `* BYE`, `-ERR`), protocol error, handshake failure
//                                                 -> unknown, with the reason
//   files: missing/unreadable/no certificate -> unknown; a file's chain that
//     does not verify is reported but does not change the status (files may
//     hold private-CA or client certificates).
//
// Metrics (gauges; `job` label added by the framework; label `endpoint` is
//   the check's target: "host:port", or "host:port (sni NAME)")
//   mxpulse_tls_not_after_timestamp_seconds{endpoint}           leaf not_after
//   mxpulse_tls_verified_chain_not_after_timestamp_seconds{endpoint}
//                                     only when the chain verifies
//   mxpulse_tls_verified{endpoint}    1 chain verifies, 0 not (time ignored)
//   mxpulse_tls_name_match{endpoint}  1/0
//   mxpulse_tls_probe_error{endpoint,reason} = 1 when no certificate was
//     collected; reason: dns|connect|timeout|greeting_refused|protocol|
//     starttls_not_offered|starttls_refused|handshake|no_certificate|
//     not_run|setup
//   mxpulse_tls_file_not_after_timestamp_seconds{path}
//   mxpulse_tls_file_verified_chain_not_after_timestamp_seconds{path}
//   mxpulse_tls_file_error{path,reason} = 1 (missing|permission|unreadable|
//     no_certificate|setup)
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "agent/job.hpp"
#include "probes/tls_probe.hpp"

namespace mxpulse::jobs {

struct TlsEndpointSpec {
  std::string endpoint;  ///< as configured: host:port or [v6]:port
  std::string host;      ///< without brackets
  int port = 0;
  probes::StartTlsProtocol starttls = probes::StartTlsProtocol::None;
  std::string sni;  ///< configured name; "" = host
  /// Target and metric label: the endpoint, plus the SNI name when one is
  /// configured that differs from the host.
  std::string key() const;
};

struct TlsExpiryParams {
  std::vector<TlsEndpointSpec> endpoints;
  std::string inventory;  ///< an `endpoints` inventory, "" = none
  std::vector<std::string> files;
  double warnDays = 21;
  double critDays = 7;
  std::string caFile;  ///< "" = the system store
  std::chrono::milliseconds endpointTimeout{30000};
  int concurrency = 16;
  std::string ehloName;  ///< "" = this host's name
  bool requireTrusted = true;
  bool requireNameMatch = true;
};

/// Builds a spec from endpoint/starttls/sni text (params or inventory).
/// `starttls` "" means "by port". False with `error` when invalid.
bool makeEndpointSpec(const std::string& endpoint, const std::string& starttls,
                      const std::string& sni, TlsEndpointSpec& spec, std::string& error);

struct TlsEndpointObservation {
  TlsEndpointSpec spec;
  bool probed = false;    ///< false: not run (deadline, stop, setup error)
  std::string notRunWhy;  ///< why not probed
  std::string specError;  ///< an invalid inventory item (spec is partial)
  probes::TlsProbeResult probe;
};

struct TlsFileObservation {
  std::string path;
  probes::CertFile file;
};

struct TlsExpiryObservations {
  std::vector<TlsEndpointObservation> endpoints;
  std::vector<TlsFileObservation> files;
  std::string setupError;  ///< e.g. the CA file does not load
};

std::optional<TlsExpiryParams> parseTlsExpiryParams(MapReader& params, const JobBuildEnv& env);

/// Pure: observations and the run's wall-clock time -> results and samples.
JobOutput evaluateTlsExpiry(const TlsExpiryParams& params, const TlsExpiryObservations& obs,
                            std::chrono::system_clock::time_point now);

/// The I/O shell: probes `endpoints` (bounded concurrency, each by its own
/// deadline within `deadline`) and reads the files.
TlsExpiryObservations observeTlsExpiry(const TlsExpiryParams& params,
                                       const std::vector<TlsEndpointObservation>& endpoints,
                                       Deadline deadline, const std::function<bool()>& stop);

JobKind tlsExpiryKind();

}  // namespace mxpulse::jobs
