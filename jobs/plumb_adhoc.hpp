// SPDX-License-Identifier: Apache-2.0
// Ad hoc forms of the pmta, oauth_expiry and dlq_depth kinds:
//   mxpulse check pmta|oauth|dlq ...
// Each turns its arguments into the kind's params. Secrets are never taken
// from the command line (visible in ps): only --*-env VAR or --*-file PATH.
#pragma once

#include "agent/adhoc.hpp"

namespace mxpulse::jobs {

AdHocCheck pmtaAdHocCheck();
AdHocCheck oauthAdHocCheck();
AdHocCheck dlqAdHocCheck();

}  // namespace mxpulse::jobs
