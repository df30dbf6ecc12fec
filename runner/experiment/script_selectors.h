// Label selectors written literally in a script (`selector = "app=web"`),
// checked by validate before the script runs: the script would otherwise
// meet the typo only at that call, possibly after its first fault.
#pragma once

#include <string>

namespace faultline::experiment {

// Throws InputError "<chunk>:<line>: selector: ..." for the first literal
// selector with a syntax error. `chunk` names the script in messages
// ("lua-scripts/zone_outage.lua"); text is its source. Selectors built at
// run time (concatenations, variables) are left to the run.
void check_literal_selectors(const std::string& chunk, const std::string& text);

}  // namespace faultline::experiment
