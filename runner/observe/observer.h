// Runs every probe of an experiment concurrently, from preflight to the end
// of recovery, into one Timeline. The runner declares what it did (fault
// start, faulted zones, disruption windows) so the SLOs can be judged later.
#pragma once

#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "runner/kube/client.h"
#include "runner/observe/probe_spec.h"
#include "runner/observe/timeline.h"

namespace faultline::observe {

struct ObserveContext {
  kube::Client* client = nullptr;       // may be null when no probe needs Kubernetes
  std::string namespace_;               // target namespace
  std::string selector;                 // target label selector (pods probe default)
  std::string service;                  // target Service (endpoints probe default)
  Clock::time_point t0 = Clock::now();  // t = 0 of the run
};

// What the progress line shows.
struct LiveStatus {
  double t = 0;
  struct Availability {
    std::string probe;
    int ok = 0;
    int total = 0;
  };
  std::vector<Availability> availability;  // over the last few seconds
  std::optional<int> ready_pods, desired_pods, ready_endpoints;
  std::optional<int> pods_on_faulted_zones;
};

class Observer {
 public:
  // Throws std::invalid_argument when a Kubernetes probe has no client.
  Observer(std::vector<ProbeSpec> probes, ObserveContext context);
  ~Observer();  // stop()
  Observer(const Observer&) = delete;
  Observer& operator=(const Observer&) = delete;

  void start();
  // Stops every probe; request probes let their requests in flight finish
  // (bounded by their timeout). Idempotent.
  void stop();

  double now() const;  // seconds since t0
  const std::vector<ProbeSpec>& probes() const { return probes_; }

  // A copy of the timeline (see Timeline::snapshot for `since`).
  TimelineSnapshot snapshot(double since = -std::numeric_limits<double>::infinity()) const;
  // The whole timeline, moved out (Timeline::take); call after stop().
  TimelineSnapshot take_timeline() { return timeline_.take(now()); }
  Timeline& timeline() { return timeline_; }
  // The pods and endpoints probes whose watch has not sampled yet.
  std::vector<std::string> timeline_unsampled() const { return timeline_.unsampled_state_probes(); }

  void set_faulted_zones(std::vector<std::string> zones);
  void mark_fault_start(std::optional<double> t = std::nullopt);  // default: now
  void mark_fault_end(std::optional<double> t = std::nullopt);
  // Voluntary disruptions (drain, evict) must honour PDBs; violations
  // (violate_pdb) are deliberate. Returns an id for end_disruption.
  int begin_disruption(const std::string& label, bool voluntary);
  void end_disruption(int id);
  // An eviction the API server admitted at t (run time; called from the
  // drain's worker threads), under the voluntary disruption open then.
  void add_eviction(const std::string& ns, const std::string& name, const std::string& node,
                    double t);

  LiveStatus live(double window_seconds = 5) const;
  std::vector<ProbeFailure> failures() const;

  struct Runner;  // one per probe

 private:
  std::vector<ProbeSpec> probes_;
  ObserveContext context_;
  Timeline timeline_;
  std::vector<std::unique_ptr<Runner>> runners_;
  bool started_ = false, stopped_ = false;
};

}  // namespace faultline::observe
