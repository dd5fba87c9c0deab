// SPDX-License-Identifier: Apache-2.0
// Organisational domains, approximately, for deciding whether a DMARC
// report address is "external" (RFC 7489 7.1). No Public Suffix List ships
// with mxpulse: the heuristic is "the last two labels, or three when the
// second-level label is a common registry suffix (co.uk, com.au, ...)".
// It errs towards calling a destination external, which only costs one
// extra TXT lookup. DMARC policy discovery does not use it: that follows
// the DNS tree walk of RFC 9989 (jobs/dns_auth_observe.cpp).
#pragma once

#include <string>

namespace mxpulse::probes {

std::string organizationalDomain(const std::string& domain);

}  // namespace mxpulse::probes
