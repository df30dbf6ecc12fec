// NodeResourcesFit (pkg/scheduler/framework/plugins/noderesources/fit.go,
// fitsRequest): the pod count, then each requested resource against
// allocatable minus what the node's pods already request. Zero requests are
// not checked, as in fitsRequest. Reasons are the plugin's own strings.
#include "runner/plan/rules/filter.h"

namespace faultline::plan {

FilterResult node_resources_fit(const Pod& pod, const NodeInfo& info) {
  const Resources& a = info.node->allocatable;
  const Resources& used = info.requested;
  if (used.pods + 1 > a.pods) return "Too many pods";
  const Resources& r = pod.spec().requests;
  if (r.milli_cpu > 0 && r.milli_cpu > a.milli_cpu - used.milli_cpu) return "Insufficient cpu";
  if (r.memory > 0 && r.memory > a.memory - used.memory) return "Insufficient memory";
  if (r.ephemeral_storage > 0 && r.ephemeral_storage > a.ephemeral_storage - used.ephemeral_storage)
    return "Insufficient ephemeral-storage";
  return std::nullopt;
}

}  // namespace faultline::plan
