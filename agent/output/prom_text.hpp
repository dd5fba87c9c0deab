// SPDX-License-Identifier: Apache-2.0
// Prometheus text exposition format 0.0.4: escaping, value formatting, and
// rendering of families so that every family appears once with one HELP and
// one TYPE line, its samples together, and no timestamps (the textfile
// collector rejects files with timestamps).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "agent/metrics.hpp"

namespace mxpulse {

/// Escapes `\`, `"` and newline in a label value.
std::string escapeLabelValue(std::string_view v);
/// Escapes `\` and newline in HELP text.
std::string escapeHelp(std::string_view v);
/// `a="1",b="2"` (no braces); label names must already be valid.
std::string renderLabels(const Labels& labels);
/// Go-compatible float text: integers without exponent, NaN, +Inf, -Inf.
std::string formatValue(double v);
/// [a-zA-Z_:][a-zA-Z0-9_:]*
bool validMetricName(std::string_view name);
/// [a-zA-Z_][a-zA-Z0-9_]* and not starting with "__".
bool validLabelName(std::string_view name);

/// Collects samples and renders them grouped by family. The first HELP
/// seen for a family wins; series with identical labels are de-duplicated
/// (last value wins) so the output never has duplicate series.
class PromWriter {
 public:
  void add(const std::string& name, const std::string& help, MetricType type,
           const std::string& renderedLabels, double value);
  void add(const Sample& s) { add(s.name, s.help, s.type, renderLabels(s.labels), s.value); }
  std::string render() const;

 private:
  struct Family {
    std::string help;
    MetricType type;
    std::map<std::string, double> series;  // labels -> value, sorted for stable output
  };
  std::map<std::string, Family> families_;
};

}  // namespace mxpulse
