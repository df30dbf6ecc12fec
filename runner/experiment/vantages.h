// The vantage pods of http probes with `from:` (issue 13): which zones they
// probe from (resolved read-only at run start: an unknown zone is exit 2),
// their SLOs judged per vantage, and the pods themselves, journaled before
// they are created so rollback and `faultline recover` delete them.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <vector>

#include "runner/chaos/journal.h"
#include "runner/experiment/spec.h"
#include "runner/kube/client.h"
#include "runner/observe/vantage.h"

namespace faultline::experiment {

// A vantage pod that could not start (image missing, unschedulable, no
// sample in time): exit 4 before the first fault, after its pods are gone.
class VantageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct VantagePlan {
  std::string series;  // "web@zone-a": the timeline series its samples fill
  observe::VantagePodParams pod;
};

// The image vantage pods run when the spec names none: $FAULTLINE_PROBE_IMAGE,
// else the image the manifests ship (faultline:<version>).
std::string default_probe_image();

// Read-only. Every http probe with `from:` resolved to its zones: a listed
// zone must have nodes (else InputError at its file:line:col); every-zone is
// the zones of the nodes the target's pods run on. Empty when no probe has
// `from:`.
std::vector<VantagePlan> plan_vantages(kube::Client& client, const Experiment& e,
                                       const std::string& run_id,
                                       const std::string& state_namespace);

// An availability or latency SLO on a probe with vantages becomes one SLO
// per vantage (its probe the vantage's series), in the order written.
void expand_vantage_slos(std::vector<slo::SloSpec>& slos, const std::vector<VantagePlan>& plans);

class VantageFleet {
 public:
  VantageFleet(kube::Client& client, chaos::Journal& journal, std::vector<VantagePlan> plans,
               observe::Timeline& timeline, observe::Clock::time_point t0,
               std::function<double()> clock);
  // Journals then creates every pod, waits up to `within` for each to run
  // and report its first sample, and follows their logs. Throws
  // VantageError (the pod and why), ApiError, or AbortedError-free: a stop
  // returns early and the caller's stop handling takes over.
  void start(std::stop_token stop, std::chrono::seconds within);
  // Stops following; the samples each vantage owed up to run time `end`
  // and never sent are added as lost. The pods are the journal's to delete.
  void finish(double end);
  // One line per vantage: pod, node, samples, lost, clock offset.
  std::vector<std::string> summaries() const;

 private:
  void wait_running(std::stop_token stop, std::chrono::steady_clock::time_point until);

  kube::Client& client_;
  chaos::Journal& journal_;
  std::vector<VantagePlan> plans_;
  observe::Timeline& timeline_;
  observe::Clock::time_point t0_;
  std::function<double()> clock_;
  std::vector<std::unique_ptr<observe::VantageFollower>> followers_;
  std::vector<std::string> nodes_;
};

}  // namespace faultline::experiment
