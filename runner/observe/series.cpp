#include "runner/observe/series.h"

#include "runner/observe/vantage.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace faultline::observe {
namespace {

std::string label(const std::string& base, const std::string& probe, bool with_probe,
                  const std::string& zone = "") {
  std::string labels;
  // A vantage's series ("web@zone-a", vantage.h) always says where from.
  if (auto v = split_vantage_series(probe))
    labels += "probe=" + v->first + ",vantage=" + v->second;
  else if (with_probe)
    labels += "probe=" + probe;
  if (!zone.empty()) labels += (labels.empty() ? "" : ",") + std::string("zone=") + zone;
  return labels.empty() ? base : base + "{" + labels + "}";
}

// Step series: a point where the value changes, and one at the end.
class StepSeries {
 public:
  StepSeries(std::string name, std::string unit) {
    s_.name = std::move(name), s_.unit = std::move(unit);
  }
  void add(double t, double v) {
    if (!s_.points.empty() && s_.points.back().second == v) return;
    s_.points.emplace_back(t, v);
    last_ = v;
  }
  reports::Series finish(double end) {
    if (!s_.points.empty() && end > s_.points.back().first) s_.points.emplace_back(end, last_);
    return std::move(s_);
  }

 private:
  reports::Series s_;
  double last_ = 0;
};

void request_series(const std::string& probe, const std::vector<RequestSample>& samples,
                    bool with_probe, std::vector<reports::Series>& out) {
  std::map<long long, std::pair<int, int>> ok_total;
  std::map<long long, std::vector<double>> latencies;
  for (const auto& s : samples) {
    auto second = static_cast<long long>(std::floor(s.t));
    auto& c = ok_total[second];
    c.first += s.ok ? 1 : 0;
    c.second += 1;
    // A vantage's lost sample never ran: it has no latency, not 0 ms.
    if (s.error != kVantageLost) latencies[second].push_back(s.latency_ms);
  }
  reports::Series avail{label("availability", probe, with_probe), "ratio", {}};
  reports::Series p95{label("latency_p95_ms", probe, with_probe), "ms", {}};
  for (auto& [second, c] : ok_total) {
    avail.points.emplace_back(double(second), double(c.first) / c.second);
    if (auto& ms = latencies[second]; !ms.empty())
      p95.points.emplace_back(double(second), percentile(ms, 95));
  }
  out.push_back(std::move(avail));
  out.push_back(std::move(p95));
}

}  // namespace

double percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  // Nearest rank: the smallest value with at least p% of the values <= it.
  auto rank = static_cast<size_t>(std::ceil(p / 100.0 * double(values.size())));
  rank = std::clamp<size_t>(rank, 1, values.size());
  std::nth_element(values.begin(), values.begin() + long(rank - 1), values.end());
  return values[rank - 1];
}

std::vector<reports::Series> to_series(const TimelineSnapshot& snap) {
  std::vector<reports::Series> out;
  double end = snap.taken;
  for (const auto& [probe, samples] : snap.requests)
    request_series(probe, samples, snap.requests.size() > 1, out);

  for (const auto& [probe, samples] : snap.endpoints) {
    bool many = snap.endpoints.size() > 1;
    StepSeries total(label("ready_endpoints", probe, many), "count");
    std::map<std::string, StepSeries> zones;
    for (const auto& s : samples) {
      total.add(s.t, s.ready_total);
      for (const auto& [zone, n] : s.ready_by_zone)
        zones.try_emplace(zone, label("ready_endpoints", probe, many, zone), "count")
            .first->second.add(s.t, n);
    }
    double last = samples.empty() ? end : std::max(end, samples.back().t);
    out.push_back(total.finish(last));
    for (auto& [zone, series] : zones) out.push_back(series.finish(last));
  }

  for (const auto& [probe, samples] : snap.pods) {
    bool many = snap.pods.size() > 1;
    StepSeries ready(label("ready_pods", probe, many), "count");
    StepSeries desired(label("desired_pods", probe, many), "count");
    std::map<std::string, StepSeries> zones;
    for (const auto& s : samples) {
      ready.add(s.t, s.ready);
      desired.add(s.t, s.desired);
      for (const auto& [zone, n] : s.ready_by_zone)
        zones.try_emplace(zone, label("ready_pods", probe, many, zone), "count")
            .first->second.add(s.t, n);
    }
    double last = samples.empty() ? end : std::max(end, samples.back().t);
    out.push_back(ready.finish(last));
    out.push_back(desired.finish(last));
    for (auto& [zone, series] : zones) out.push_back(series.finish(last));
  }

  for (const auto& [probe, samples] : snap.values) {
    reports::Series v{label("prometheus", probe, true), "value", {}};
    for (const auto& s : samples)
      if (s.ok && std::isfinite(s.value)) v.points.emplace_back(s.t, s.value);
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace faultline::observe
