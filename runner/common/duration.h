// Durations as users write them: "90s", "2m", "1m30s", "250ms", "1h", or a
// bare number of seconds.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace faultline {

using Seconds = std::chrono::duration<double>;

// The longest duration accepted anywhere (a year): a 400-digit duration is
// refused rather than becoming infinity and overflowing a conversion.
inline constexpr Seconds kMaxDuration{366.0 * 24 * 3600};

// Returns nullopt when text is not a valid, non-negative duration of at most
// kMaxDuration.
std::optional<Seconds> parse_duration(std::string_view text);
// True when text is a well-formed duration longer than kMaxDuration.
bool duration_too_long(std::string_view text);

// "1m30s", "250ms", "2.5s": the shortest form that reads back the same.
std::string format_duration(Seconds d);

// Percentages as users write them: "99.5%" or a ratio 0.995. Returns the
// ratio in [0, 1], nullopt when invalid.
std::optional<double> parse_ratio(std::string_view text);

// Rates: "20/s", "1000/s", "5/m". Returns events per second.
std::optional<double> parse_rate(std::string_view text);

}  // namespace faultline
