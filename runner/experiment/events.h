// Kubernetes Events on the target workload for each phase, so `kubectl
// describe deployment` shows the drill; and the events seen on the target
// during the run, for the report. Best effort: a refused event is logged,
// never fatal.
#pragma once

#include <string>
#include <vector>

#include "reports/run_record.h"
#include "runner/kube/client.h"

namespace faultline::experiment {

class EventRecorder {
 public:
  EventRecorder(kube::Client client, std::string ns, std::string selector);
  void emit(const std::string& reason, const std::string& message, bool warning);
  // The namespace's events since the start, the earliest 500, in time order;
  // read a page at a time, each event cut to what the report shows.
  std::vector<reports::EventRecord> seen_since(const std::string& rfc3339_start);

 private:
  void find_target();
  kube::Client client_;
  std::string ns_, selector_;
  nlohmann::json target_;  // involvedObject, null when not found
  bool looked_up_ = false;
};

}  // namespace faultline::experiment
