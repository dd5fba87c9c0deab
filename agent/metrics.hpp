// SPDX-License-Identifier: Apache-2.0
// Metric samples that jobs return and the textfile writer renders.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace mxpulse {

using Labels = std::vector<std::pair<std::string, std::string>>;

enum class MetricType { Gauge, Counter };

/// One metric family, declared once per job kind as a static constant so
/// that HELP and TYPE are identical wherever the family appears (the
/// textfile collector rejects a family with two different HELP texts).
struct MetricDesc {
  const char* name;
  const char* help;
  MetricType type;
};

/// One sample. The family's HELP/TYPE travel with it (by value) so samples
/// restored from the state DB after a restart still render correctly.
struct Sample {
  std::string name;
  std::string help;
  MetricType type = MetricType::Gauge;
  Labels labels;
  double value = 0;

  Sample() = default;
  Sample(const MetricDesc& desc, Labels l, double v)
      : name(desc.name), help(desc.help), type(desc.type), labels(std::move(l)), value(v) {}
};

}  // namespace mxpulse
