// Text helpers shared by the renderers: escaping for each output language,
// and the few number/time formats a report shows. Internal to reports/.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace faultline::reports::text {

// Replaces each invalid UTF-8 sequence with U+FFFD. Record strings come from
// pods, events and scripts; a stray byte must not break a JSON or XML parser.
std::string valid_utf8(std::string_view s);

// HTML text and attribute values (both quote kinds). Control characters other
// than tab and newline are dropped.
std::string html(std::string_view s);

// XML 1.0 text and attribute values. Characters XML forbids become U+FFFD;
// newlines and tabs in attributes are kept as character references so a
// parser's attribute normalisation does not flatten them.
std::string xml(std::string_view s);
std::string xml_attr(std::string_view s);

// Inline CommonMark: punctuation Markdown would interpret is backslash-escaped
// (so "<script>" or "a|b" stays text, also inside a table cell), newlines
// become spaces.
std::string markdown(std::string_view s);

// A number with at most `decimals` decimals, trailing zeros removed
// ("99.5", "120", "0.25"); "n/a" for NaN or infinity.
std::string number(double v, int decimals = 3);

// Seconds for humans, rounded to 0.1 s: "0s", "41.3s", "3m12s", "1h2m".
std::string seconds(double s);

// RFC 3339 ("2024-05-14T02:00:00Z", "...T02:00:00.25+02:00") to Unix seconds;
// nullopt when malformed.
std::optional<double> parse_rfc3339(std::string_view s);

// Unix seconds to "2024-05-14T02:00:00" (UTC, no zone: the form JUnit's
// timestamp attribute expects).
std::string utc_timestamp(double unix_seconds);

}  // namespace faultline::reports::text
