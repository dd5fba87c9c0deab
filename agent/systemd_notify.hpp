// SPDX-License-Identifier: Apache-2.0
// sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET.
// A no-op when not started by systemd with Type=notify.
#pragma once

#include <chrono>
#include <string>

namespace mxpulse::systemd {

/// Sends e.g. "READY=1" or "STOPPING=1"; returns false if not under systemd.
bool notify(const std::string& state);
/// Half of $WATCHDOG_USEC (if set for this process), else zero.
std::chrono::milliseconds watchdogInterval();

}  // namespace mxpulse::systemd
