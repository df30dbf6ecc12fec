#include "runner/common/duration.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace faultline {
namespace {

std::optional<double> parse_number(std::string_view text, size_t* consumed) {
  size_t i = 0;
  bool digits = false, dot = false;
  while (i < text.size()) {
    char c = text[i];
    if (c >= '0' && c <= '9') {
      digits = true;
    } else if (c == '.' && !dot) {
      dot = true;
    } else {
      break;
    }
    ++i;
  }
  if (!digits) return std::nullopt;
  *consumed = i;
  return std::strtod(std::string(text.substr(0, i)).c_str(), nullptr);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

namespace {

std::optional<Seconds> parse_unbounded(std::string_view text) {
  text = trim(text);
  if (text.empty()) return std::nullopt;
  size_t n = 0;
  if (auto bare = parse_number(text, &n); bare && n == text.size()) return Seconds(*bare);
  double total = 0;
  while (!text.empty()) {
    auto value = parse_number(text, &n);
    if (!value) return std::nullopt;
    text.remove_prefix(n);
    double unit;
    if (text.starts_with("ms")) {
      unit = 0.001, text.remove_prefix(2);
    } else if (text.starts_with("us")) {
      unit = 0.000001, text.remove_prefix(2);
    } else if (text.starts_with("h")) {
      unit = 3600, text.remove_prefix(1);
    } else if (text.starts_with("m")) {
      unit = 60, text.remove_prefix(1);
    } else if (text.starts_with("s")) {
      unit = 1, text.remove_prefix(1);
    } else {
      return std::nullopt;
    }
    total += *value * unit;
  }
  return Seconds(total);
}

}  // namespace

std::optional<Seconds> parse_duration(std::string_view text) {
  auto d = parse_unbounded(text);
  if (!d || !std::isfinite(d->count()) || *d > kMaxDuration) return std::nullopt;
  return d;
}

bool duration_too_long(std::string_view text) {
  auto d = parse_unbounded(text);
  return d && !(*d <= kMaxDuration);
}

std::string format_duration(Seconds d) {
  double s = d.count();
  char buf[64];
  if (!std::isfinite(s) || std::abs(s) > 1e15) {  // no whole-number conversion past long's range
    std::snprintf(buf, sizeof buf, "%gs", s);
    return buf;
  }
  if (s < 1 && s != 0) {
    std::snprintf(buf, sizeof buf, "%gms", std::round(s * 1e6) / 1e3);
    return buf;
  }
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%gs", std::round(s * 1000) / 1000);
    return buf;
  }
  long whole = static_cast<long>(s);
  double frac = s - static_cast<double>(whole);
  std::string out;
  if (whole >= 3600) out += std::to_string(whole / 3600) + "h", whole %= 3600;
  if (whole >= 60) out += std::to_string(whole / 60) + "m", whole %= 60;
  if (whole || frac > 0.0005) {
    std::snprintf(buf, sizeof buf, "%gs",
                  std::round((static_cast<double>(whole) + frac) * 1000) / 1000);
    out += buf;
  }
  return out;
}

std::optional<double> parse_ratio(std::string_view text) {
  text = trim(text);
  bool percent = !text.empty() && text.back() == '%';
  if (percent) text.remove_suffix(1);
  size_t n = 0;
  auto value = parse_number(trim(text), &n);
  if (!value || n != trim(text).size()) return std::nullopt;
  double ratio = percent ? *value / 100.0 : *value;
  if (!(ratio >= 0 && ratio <= 1)) return std::nullopt;
  return ratio;
}

std::optional<double> parse_rate(std::string_view text) {
  text = trim(text);
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  size_t n = 0;
  auto count = parse_number(trim(text.substr(0, slash)), &n);
  if (!count || n != trim(text.substr(0, slash)).size() || !(*count > 0) || !std::isfinite(*count))
    return std::nullopt;
  auto per = trim(text.substr(slash + 1));
  double seconds;
  if (per == "s") {
    seconds = 1;
  } else if (per == "m") {
    seconds = 60;
  } else if (auto d = parse_duration(per); d && d->count() > 0) {
    seconds = d->count();
  } else {
    return std::nullopt;
  }
  return *count / seconds;
}

}  // namespace faultline
