#include "reports/timeline_svg.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <sstream>

#include "reports/text.h"
#include "runner/common/duration.h"

namespace faultline::reports {
namespace {

// Geometry in viewBox units; the SVG scales to the page width.
constexpr double kWidth = 1000;
constexpr double kLeft = 66;
constexpr double kRight = 14;
constexpr double kPlotWidth = kWidth - kLeft - kRight;
constexpr double kLabelRow = 14;
constexpr int kLabelRows = 4;
constexpr double kPhaseBand = 20;
constexpr double kPanelHeader = 22;
constexpr double kPanelPlot = 130;
constexpr double kPanelGap = 12;
constexpr double kAxis = 26;
constexpr double kCharWidth = 5.6;  // estimate for 10px system-ui text

constexpr const char* kPalette[] = {"#1f77b4", "#ff7f0e", "#9467bd", "#17becf",
                                    "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f"};

std::string num(double v) { return text::number(v, 1); }

struct Panel {
  std::string title;
  std::string unit;
  std::vector<const Series*> series;
  double lo = 0, hi = 1;
  std::optional<double> bound;  // SLO bound drawn as a dashed line
};

// Panels in reading order: availability first, then latency, then replicas,
// then anything else grouped by unit.
int unit_rank(const std::string& unit) {
  if (unit == "ratio") return 0;
  if (unit == "ms" || unit == "s") return 1;
  if (unit == "count") return 2;
  return 3;
}

std::string panel_title(const std::string& unit, const std::vector<const Series*>& series) {
  if (unit == "ratio") return "Availability";
  if (unit == "ms") return "Latency (ms)";
  if (unit == "s") return "Latency (s)";
  if (unit == "count") {
    bool per_zone = std::all_of(series.begin(), series.end(), [](const Series* s) {
      return s->name.find("{zone=") != std::string::npos;
    });
    return per_zone ? "Ready replicas per zone" : "Count";
  }
  return unit.empty() ? "Other" : unit;
}

// "ready{zone=zone-a}" -> "zone-a" when the panel title already says what is
// counted; otherwise the series name as written.
std::string legend_label(const Series& s, const std::string& title) {
  auto brace = s.name.find('{');
  // "availability{probe=web,vantage=zone-a}" -> "web from zone-a".
  if (auto v = s.name.find(",vantage="); brace != std::string::npos && v != std::string::npos &&
                                         s.name.back() == '}' &&
                                         s.name.compare(brace + 1, 6, "probe=") == 0)
    return s.name.substr(brace + 7, v - brace - 7) + " from " +
           s.name.substr(v + 9, s.name.size() - v - 10);
  auto eq = s.name.find('=', brace);
  if (title == "Ready replicas per zone" && brace != std::string::npos && eq != std::string::npos &&
      s.name.back() == '}') {
    return s.name.substr(eq + 1, s.name.size() - eq - 2);
  }
  return s.name;
}

// A "nice" tick step (1, 2, 2.5, 5 x 10^k) giving about `target` ticks.
double nice_step(double range, int target) {
  if (range <= 0) return 1;
  double raw = range / target;
  double mag = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * mag >= raw) return m * mag;
  }
  return 10 * mag;
}

double time_step(double range) {
  for (double s : {1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0,
                   3600.0, 7200.0}) {
    if (range / s <= 12) return s;
  }
  return std::ceil(range / 12 / 3600) * 3600;
}

std::optional<double> parse_bound(const std::string& bound_text) {
  std::string_view v = bound_text;
  while (!v.empty() &&
         (v.front() == '>' || v.front() == '<' || v.front() == '=' || v.front() == ' ')) {
    v.remove_prefix(1);
  }
  return parse_ratio(v);
}

void fit_range(Panel& p, const RunRecord& r) {
  double lo = std::numeric_limits<double>::infinity();
  double hi = -lo;
  for (const Series* s : p.series) {
    for (const auto& [t, v] : s->points) {
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    }
  }
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (p.unit == "ratio") {
    for (const auto& slo : r.slos) {
      if (slo.kind == "availability" && !p.bound) p.bound = parse_bound(slo.bound_text);
    }
    double floor_at = p.bound ? std::min(lo, *p.bound) : lo;
    // Zoom in on the top of the scale, where availability lives, but never so
    // far that a dip reaches the floor.
    floor_at -= 0.1 * (1 - floor_at);
    p.lo = 0;
    for (double c : {0.99, 0.98, 0.95, 0.9, 0.8, 0.5}) {
      if (c < floor_at) {
        p.lo = c;
        break;
      }
    }
    // Headroom, so 100% is not drawn on the frame.
    p.hi = 1 + (1 - p.lo) * 0.04;
    return;
  }
  p.lo = std::min(0.0, lo);
  if (p.unit == "count") {
    // Half a step of room below 0 and above the top, so a zone at 0 or at
    // the maximum is not drawn on the frame.
    p.hi = std::max(1.0, std::ceil(hi)) + 0.5;
    p.lo -= 0.3;
  } else {
    double step = nice_step(hi - p.lo, 4);
    p.hi = std::max(step, std::ceil(hi * 1.1 / step) * step);
  }
}

std::string y_tick_label(double v, const std::string& unit) {
  if (unit == "ratio") return text::number(v * 100, 2) + "%";
  return text::number(v, 2);
}

// Label placement for markers: highest-priority kinds get rows first.
int marker_priority(const std::string& kind) {
  if (kind == "abort") return 0;
  if (kind == "rollback") return 1;
  if (kind == "fault") return 2;
  return 3;
}

const char* marker_color(const std::string& kind) {
  if (kind == "abort") return "#000000";
  if (kind == "rollback") return "#0a7d32";
  if (kind == "fault") return "#d62728";
  return "#8a8a8a";
}

std::string truncate(const std::string& s, size_t max_chars) {
  // Count code points, not bytes, so a multi-byte character is never split.
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && ++count > max_chars) {
      return s.substr(0, i) + "…";
    }
  }
  return s;
}

}  // namespace

std::vector<std::pair<double, double>> downsample(
    const std::vector<std::pair<double, double>>& points, double t_min, double t_max, int columns) {
  if (columns <= 0 || points.size() <= static_cast<size_t>(columns) * 2 || t_max <= t_min) {
    return points;
  }
  std::vector<std::pair<double, double>> out;
  int col = -1;
  size_t lo = 0, hi = 0;
  bool open = false;
  auto flush = [&] {
    if (!open) return;
    out.push_back(points[std::min(lo, hi)]);
    if (lo != hi) out.push_back(points[std::max(lo, hi)]);
    open = false;
  };
  for (size_t i = 0; i < points.size(); ++i) {
    const auto& [t, v] = points[i];
    if (!std::isfinite(v)) {
      flush();
      if (out.empty() || std::isfinite(out.back().second)) out.push_back(points[i]);
      col = -1;
      continue;
    }
    int c = static_cast<int>(std::floor((t - t_min) / (t_max - t_min) * columns));
    c = std::clamp(c, 0, columns - 1);
    if (!open || c != col) {
      flush();
      col = c;
      lo = hi = i;
      open = true;
    } else {
      if (v < points[lo].second) lo = i;
      if (v > points[hi].second) hi = i;
    }
  }
  flush();
  return out;
}

std::string timeline_svg(const RunRecord& r) {
  // Time range: the whole run, including anything recorded past its end.
  double t_end = std::max(1.0, r.duration_seconds);
  for (const auto& s : r.series) {
    for (const auto& p : s.points) t_end = std::max(t_end, p.first);
  }
  for (const auto& m : r.markers) t_end = std::max(t_end, m.t);
  for (const auto& p : r.phases) t_end = std::max(t_end, p.ended);
  auto X = [&](double t) { return kLeft + std::clamp(t / t_end, 0.0, 1.0) * kPlotWidth; };

  // Panels by unit.
  std::map<std::pair<int, std::string>, Panel> by_unit;
  for (const auto& s : r.series) {
    Panel& p = by_unit[{unit_rank(s.unit), s.unit}];
    p.unit = s.unit;
    p.series.push_back(&s);
  }
  std::vector<Panel> panels;
  for (auto& [key, p] : by_unit) {
    p.title = panel_title(p.unit, p.series);
    fit_range(p, r);
    panels.push_back(std::move(p));
  }

  // Marker labels: greedy rows, most important kinds first.
  struct Placed {
    size_t index;
    int row = -1;
    bool anchor_end = false;
  };
  std::vector<size_t> order(r.markers.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return r.markers[a].t < r.markers[b].t; });
  std::vector<int> number(r.markers.size());
  for (size_t i = 0; i < order.size(); ++i) number[order[i]] = static_cast<int>(i) + 1;
  std::vector<size_t> by_priority = order;
  std::stable_sort(by_priority.begin(), by_priority.end(), [&](size_t a, size_t b) {
    return marker_priority(r.markers[a].kind) < marker_priority(r.markers[b].kind);
  });
  std::vector<std::vector<std::pair<double, double>>> rows(kLabelRows);
  std::vector<Placed> placed;
  std::vector<std::string> labels(r.markers.size());
  int rows_used = 0;
  for (size_t i : by_priority) {
    labels[i] = std::to_string(number[i]) + " " + truncate(r.markers[i].label, 30);
    double w = static_cast<double>(labels[i].size()) * kCharWidth + 4;
    double x = X(r.markers[i].t);
    bool end = x + w > kWidth - 2;
    double from = end ? x - w : x, to = end ? x : x + w;
    for (int row = 0; row < kLabelRows; ++row) {
      bool clear = std::none_of(rows[row].begin(), rows[row].end(), [&](const auto& iv) {
        return from < iv.second + 3 && iv.first < to + 3;
      });
      if (clear) {
        rows[row].emplace_back(from, to);
        placed.push_back(Placed{i, row, end});
        rows_used = std::max(rows_used, row + 1);
        break;
      }
    }
  }

  // Phases in lanes: a phase that overlaps an earlier one (observe runs
  // alongside inject) goes one lane down.
  std::vector<int> lane(r.phases.size(), 0);
  std::vector<double> lane_end;
  for (size_t i = 0; i < r.phases.size(); ++i) {
    size_t l = 0;
    while (l < lane_end.size() && lane_end[l] > r.phases[i].started + 1e-9) ++l;
    if (l == lane_end.size()) lane_end.push_back(0);
    lane_end[l] = r.phases[i].ended;
    lane[i] = static_cast<int>(l);
  }
  double band_h = kPhaseBand * static_cast<double>(std::max<size_t>(1, lane_end.size()));

  double labels_h = std::max(1, rows_used) * kLabelRow + 4;
  double band_top = labels_h;
  double panels_top = band_top + band_h + 6;
  double panel_block = kPanelHeader + kPanelPlot + kPanelGap;
  double panels_h = panels.empty() ? 40 : panel_block * static_cast<double>(panels.size());
  double plot_bottom = panels_top + panels_h - kPanelGap;
  double height = plot_bottom + kAxis;

  std::ostringstream svg;
  svg << "<svg class=\"timeline\" viewBox=\"0 0 " << num(kWidth) << " " << num(height)
      << "\" role=\"img\" aria-label=\"Timeline of the run\" font-family=\"system-ui, sans-serif\" "
         "font-size=\"10\">\n";

  // Phase band.
  svg << "<g class=\"phases\">\n";
  for (size_t i = 0; i < r.phases.size(); ++i) {
    const auto& p = r.phases[i];
    double x0 = X(p.started), x1 = std::max(X(p.ended), x0 + 1);
    const char* fill = p.status == "failed"    ? "#f4c7c3"
                       : p.status == "aborted" ? "#ffe0b2"
                       : p.status == "skipped" ? "#eeeeee"
                       : (i % 2 == 0)          ? "#dbe8f5"
                                               : "#e8f0f8";
    double y = band_top + kPhaseBand * lane[i];
    svg << "<rect x=\"" << num(x0) << "\" y=\"" << num(y) << "\" width=\"" << num(x1 - x0)
        << "\" height=\"" << num(kPhaseBand) << "\" fill=\"" << fill
        << "\" stroke=\"#ffffff\"><title>" << text::html(p.name) << " (" << text::html(p.status)
        << "): " << text::seconds(p.started) << " to " << text::seconds(p.ended)
        << (p.message.empty() ? "" : " — " + text::html(p.message)) << "</title></rect>\n";
    if (static_cast<double>(p.name.size()) * kCharWidth + 6 < x1 - x0) {
      svg << "<text x=\"" << num((x0 + x1) / 2) << "\" y=\"" << num(y + 14)
          << "\" text-anchor=\"middle\" fill=\"#333\">" << text::html(p.name) << "</text>\n";
    }
  }
  svg << "</g>\n";

  // Panels.
  for (size_t pi = 0; pi < panels.size(); ++pi) {
    const Panel& p = panels[pi];
    double top = panels_top + panel_block * static_cast<double>(pi);
    double y0 = top + kPanelHeader, y1 = y0 + kPanelPlot;
    auto Y = [&](double v) {
      double f = (std::clamp(v, p.lo, p.hi) - p.lo) / (p.hi - p.lo);
      return y1 - f * kPanelPlot;
    };
    svg << "<g class=\"panel\">\n";
    svg << "<text x=\"" << num(kLeft) << "\" y=\"" << num(top + 14)
        << "\" font-size=\"12\" font-weight=\"600\" fill=\"#222\">" << text::html(p.title)
        << "</text>\n";
    // Legend after the title.
    double lx = kLeft + static_cast<double>(p.title.size()) * 7.2 + 18;
    for (size_t si = 0; si < p.series.size(); ++si) {
      std::string label = legend_label(*p.series[si], p.title);
      const char* color = kPalette[si % std::size(kPalette)];
      svg << "<line x1=\"" << num(lx) << "\" y1=\"" << num(top + 10) << "\" x2=\"" << num(lx + 16)
          << "\" y2=\"" << num(top + 10) << "\" stroke=\"" << color
          << "\" stroke-width=\"2.5\"/><text x=\"" << num(lx + 20) << "\" y=\"" << num(top + 14)
          << "\" fill=\"#333\">" << text::html(label) << "</text>\n";
      lx += 20 + static_cast<double>(label.size()) * kCharWidth + 14;
    }
    svg << "<rect x=\"" << num(kLeft) << "\" y=\"" << num(y0) << "\" width=\"" << num(kPlotWidth)
        << "\" height=\"" << num(kPanelPlot) << "\" fill=\"#fafafa\" stroke=\"#cccccc\"/>\n";
    // Y grid and ticks.
    double step =
        p.unit == "count" ? std::max(1.0, nice_step(p.hi - p.lo, 4)) : nice_step(p.hi - p.lo, 4);
    double top_tick = p.unit == "ratio" ? 1.0 : p.hi;
    for (double v = std::ceil(p.lo / step - 1e-9) * step; v <= top_tick + step * 1e-9; v += step) {
      double y = Y(v);
      svg << "<line x1=\"" << num(kLeft) << "\" y1=\"" << num(y) << "\" x2=\""
          << num(kLeft + kPlotWidth) << "\" y2=\"" << num(y) << "\" stroke=\"#e3e3e3\"/><text x=\""
          << num(kLeft - 5) << "\" y=\"" << num(y + 3.5) << "\" text-anchor=\"end\" fill=\"#555\">"
          << y_tick_label(v, p.unit) << "</text>\n";
    }
    // Failed SLOs: shade the span that decided them on the panel they belong to.
    for (const auto& slo : r.slos) {
      if (slo.passed || !slo.deciding_span) continue;
      int rank = slo.kind == "availability"                                   ? 0
                 : slo.kind == "latency"                                      ? 1
                 : slo.kind == "replacement" || slo.kind == "ready_endpoints" ? 2
                                                                              : -1;
      if (rank != unit_rank(p.unit)) continue;
      double x0 = X(slo.deciding_span->from), x1 = std::max(X(slo.deciding_span->to), x0 + 2);
      svg << "<rect class=\"deciding\" x=\"" << num(x0) << "\" y=\"" << num(y0) << "\" width=\""
          << num(x1 - x0) << "\" height=\"" << num(kPanelPlot)
          << "\" fill=\"#d62728\" fill-opacity=\"0.12\"><title>" << text::html(slo.name)
          << " failed here: " << text::html(slo.measured_text) << ", bound "
          << text::html(slo.bound_text) << "</title></rect>\n";
    }
    if (p.bound) {
      double y = Y(*p.bound);
      svg << "<line x1=\"" << num(kLeft) << "\" y1=\"" << num(y) << "\" x2=\""
          << num(kLeft + kPlotWidth) << "\" y2=\"" << num(y)
          << "\" stroke=\"#d62728\" stroke-dasharray=\"6 4\" stroke-width=\"1\"><title>SLO bound "
          << text::number(*p.bound * 100, 3) << "%</title></line>\n";
    }
    // Series.
    for (size_t si = 0; si < p.series.size(); ++si) {
      const Series& s = *p.series[si];
      auto points = downsample(s.points, 0, t_end, static_cast<int>(kPlotWidth));
      bool step_line = p.unit == "count" && points.size() == s.points.size();
      // Zones often hold the same count: nudge each line a little apart so
      // one does not hide another.
      double nudge =
          p.unit == "count"
              ? (static_cast<double>(si) - (static_cast<double>(p.series.size()) - 1) / 2) * 2.5
              : 0;
      std::string d;
      bool pen_down = false;
      for (const auto& [t, v] : points) {
        if (!std::isfinite(v)) {
          pen_down = false;
          continue;
        }
        double x = X(t), y = Y(v) + nudge;
        if (!pen_down) {
          d += "M" + num(x) + " " + num(y);
          pen_down = true;
        } else if (step_line) {
          d += "H" + num(x) + "V" + num(y);
        } else {
          d += "L" + num(x) + " " + num(y);
        }
      }
      if (d.empty()) continue;
      svg << "<path class=\"series\" d=\"" << d << "\" fill=\"none\" stroke=\""
          << kPalette[si % std::size(kPalette)]
          << "\" stroke-width=\"1.8\" stroke-linejoin=\"round\"><title>" << text::html(s.name)
          << "</title></path>\n";
    }
    svg << "</g>\n";
  }
  if (panels.empty()) {
    svg << "<text x=\"" << num(kLeft + kPlotWidth / 2) << "\" y=\"" << num(panels_top + 24)
        << "\" text-anchor=\"middle\" fill=\"#777\">No samples were recorded.</text>\n";
  }

  // Time axis.
  double tstep = time_step(t_end);
  svg << "<g class=\"axis\">\n";
  for (double t = 0; t <= t_end + 1e-9; t += tstep) {
    double x = X(t);
    svg << "<line x1=\"" << num(x) << "\" y1=\"" << num(plot_bottom) << "\" x2=\"" << num(x)
        << "\" y2=\"" << num(plot_bottom + 4) << "\" stroke=\"#555\"/><text x=\"" << num(x)
        << "\" y=\"" << num(plot_bottom + 15) << "\" text-anchor=\"middle\" fill=\"#555\">"
        << text::seconds(t) << "</text>\n";
  }
  svg << "</g>\n";

  // Markers across the band and every panel, labels above.
  svg << "<g class=\"markers\">\n";
  for (size_t i : order) {
    const Marker& m = r.markers[i];
    double x = X(m.t);
    const char* color = marker_color(m.kind);
    const char* dash = m.kind == "phase" ? " stroke-dasharray=\"2 3\"" : "";
    double width = m.kind == "abort" ? 2.2 : 1.3;
    svg << "<line class=\"marker marker-" << text::html(m.kind) << "\" x1=\"" << num(x)
        << "\" y1=\"" << num(band_top - 2) << "\" x2=\"" << num(x) << "\" y2=\"" << num(plot_bottom)
        << "\" stroke=\"" << color << "\" stroke-width=\"" << width << "\"" << dash << "><title>"
        << number[i] << ". " << text::seconds(m.t) << " " << text::html(m.kind) << ": "
        << text::html(m.label) << "</title></line>\n";
  }
  for (const Placed& pl : placed) {
    const Marker& m = r.markers[pl.index];
    double x = X(m.t);
    double y = labels_h - 4 - pl.row * kLabelRow;
    svg << "<text x=\"" << num(pl.anchor_end ? x - 2 : x + 2) << "\" y=\"" << num(y) << "\""
        << (pl.anchor_end ? " text-anchor=\"end\"" : "") << " fill=\"" << marker_color(m.kind)
        << "\">" << text::html(labels[pl.index]) << "</text>\n";
  }
  svg << "</g>\n</svg>\n";
  return svg.str();
}

}  // namespace faultline::reports
