#include "reports/text.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <ctime>

#include "runner/common/duration.h"

namespace faultline::reports::text {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// Length of the valid UTF-8 sequence starting at s[i], or 0 when invalid.
// Rejects overlong forms, surrogates and code points past U+10FFFF.
size_t sequence_length(std::string_view s, size_t i, uint32_t* code_point) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b0 = byte(i);
  if (b0 < 0x80) {
    *code_point = b0;
    return 1;
  }
  size_t n;
  uint32_t cp;
  uint32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    n = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  *code_point = cp;
  return n;
}

// Walks s as UTF-8 and calls emit(code_point, bytes) for each character;
// invalid bytes arrive as U+FFFD.
template <typename Emit>
void for_each_char(std::string_view s, Emit emit) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp = 0;
    size_t n = sequence_length(s, i, &cp);
    if (n == 0) {
      emit(0xFFFD, kReplacement);
      ++i;
    } else {
      emit(cp, s.substr(i, n));
      i += n;
    }
  }
}

}  // namespace

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for_each_char(s, [&](uint32_t, std::string_view bytes) { out += bytes; });
  return out;
}

std::string html(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  for_each_char(s, [&](uint32_t cp, std::string_view bytes) {
    switch (cp) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '\n':
      case '\t':
        out += bytes;
        break;
      default:
        if (cp < 0x20 || cp == 0x7F) break;  // control characters: dropped
        out += bytes;
    }
  });
  return out;
}

namespace {

std::string xml_escape(std::string_view s, bool attribute) {
  std::string out;
  out.reserve(s.size() + 16);
  for_each_char(s, [&](uint32_t cp, std::string_view bytes) {
    switch (cp) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\n':
        out += attribute ? std::string_view("&#10;") : bytes;
        break;
      case '\t':
        out += attribute ? std::string_view("&#9;") : bytes;
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        // XML 1.0 allows no other C0 control and not U+FFFE/U+FFFF.
        if (cp < 0x20 || cp == 0xFFFE || cp == 0xFFFF) {
          out += kReplacement;
        } else {
          out += bytes;
        }
    }
  });
  return out;
}

}  // namespace

std::string xml(std::string_view s) { return xml_escape(s, false); }
std::string xml_attr(std::string_view s) { return xml_escape(s, true); }

std::string markdown(std::string_view s) {
  // Only what can start markup mid-line: "[" covers links and images, "<"
  // autolinks and HTML, "|" table cells, "&" entities. (">" only quotes at
  // the start of a line, where escaped text never stands.)
  static constexpr std::string_view kSpecial = "\\`*_[]<|~&";
  std::string out;
  out.reserve(s.size() + 16);
  for_each_char(s, [&](uint32_t cp, std::string_view bytes) {
    if (cp == '\n' || cp == '\r' || cp == '\t') {
      out += ' ';
    } else if (cp < 0x20 || cp == 0x7F) {
      // dropped
    } else if (cp < 0x80 && kSpecial.find(static_cast<char>(cp)) != std::string_view::npos) {
      out += '\\';
      out += bytes;
    } else {
      out += bytes;
    }
  });
  return out;
}

std::string number(double v, int decimals) {
  if (!std::isfinite(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  std::string out = buf;
  if (out.find('.') != std::string::npos) {
    while (out.back() == '0') out.pop_back();
    if (out.back() == '.') out.pop_back();
  }
  if (out == "-0") out = "0";
  return out;
}

std::string seconds(double s) {
  if (!std::isfinite(s)) return "n/a";
  bool negative = s < 0;
  double rounded = std::round(std::fabs(s) * 10) / 10;
  // Past a minute, tenths are noise: "3m12s", not "3m12.4s".
  if (rounded >= 60) rounded = std::round(rounded);
  std::string out = rounded == 0 ? "0s" : format_duration(Seconds(rounded));
  return negative && rounded != 0 ? "-" + out : out;
}

std::optional<double> parse_rfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)
  auto digits = [&](size_t pos, size_t n) -> std::optional<int> {
    if (pos + n > s.size()) return std::nullopt;
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (s[i] < '0' || s[i] > '9') return std::nullopt;
      v = v * 10 + (s[i] - '0');
    }
    return v;
  };
  auto at = [&](size_t pos, std::string_view allowed) {
    return pos < s.size() && allowed.find(s[pos]) != std::string_view::npos;
  };
  auto year = digits(0, 4), month = digits(5, 2), day = digits(8, 2);
  auto hour = digits(11, 2), minute = digits(14, 2), second = digits(17, 2);
  if (!year || !month || !day || !hour || !minute || !second || !at(4, "-") || !at(7, "-") ||
      !at(10, "Tt") || !at(13, ":") || !at(16, ":")) {
    return std::nullopt;
  }
  if (*month < 1 || *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 ||
      *second > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  double fraction = 0;
  if (at(pos, ".")) {
    size_t start = ++pos;
    double scale = 0.1;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      fraction += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int offset_seconds = 0;
  if (at(pos, "Zz")) {
    ++pos;
  } else if (at(pos, "+-")) {
    int sign = s[pos] == '-' ? -1 : 1;
    auto oh = digits(pos + 1, 2), om = digits(pos + 4, 2);
    if (!oh || !om || !at(pos + 3, ":") || *oh > 23 || *om > 59) return std::nullopt;
    offset_seconds = sign * (*oh * 3600 + *om * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  std::tm tm{};
  tm.tm_year = *year - 1900;
  tm.tm_mon = *month - 1;
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *minute;
  tm.tm_sec = *second == 60 ? 59 : *second;  // a leap second counts as :59 + 1
  std::time_t t = timegm(&tm);
  // timegm normalises 31 February into March: reject what it had to move.
  if (tm.tm_mday != *day || tm.tm_mon != *month - 1) return std::nullopt;
  return static_cast<double>(t) + (*second == 60 ? 1 : 0) - offset_seconds + fraction;
}

std::string utc_timestamp(double unix_seconds) {
  std::time_t t = static_cast<std::time_t>(std::floor(unix_seconds));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

}  // namespace faultline::reports::text
