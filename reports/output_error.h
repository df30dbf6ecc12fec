// Writing an output failed: a report file could not be written, the metrics
// endpoint could not bind, the Pushgateway refused a push. Distinct from
// InputError (exit 2, "nothing touched"): by the time reports are written the
// run has happened, so the caller reports this next to the run's own result.
#pragma once

#include <stdexcept>
#include <string>

namespace faultline::reports {

class OutputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace faultline::reports
