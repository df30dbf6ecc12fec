#include "reports/renderers.h"

namespace faultline::reports {

std::string render_json(const RunRecord& r) {
  // Strings in a record come from pods and events; an invalid UTF-8 byte is
  // replaced rather than failing the whole report.
  return to_json(r).dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace faultline::reports
