// Single-node mutations, each carrying the run's annotation in the same patch
// so the node itself records who changed it. Optimistic concurrency
// (resourceVersion) so we never overwrite a change someone made meanwhile.
#pragma once

#include <string>

#include "runner/kube/client.h"

namespace faultline::chaos {

enum class NodeChange { Applied, AlreadyThere, Gone };

// Cordon unless already unschedulable (a node cordoned before the run stays
// cordoned after it: we record AlreadyThere and never undo it).
NodeChange cordon_node(kube::Client& client, const std::string& node, const std::string& run_id);
// Uncordon only what run_id cordoned (the annotation says so).
NodeChange uncordon_node(kube::Client& client, const std::string& node, const std::string& run_id);
// Add/remove the faultline.io/zone-failure=run_id:NoExecute taint.
NodeChange taint_node(kube::Client& client, const std::string& node, const std::string& run_id);
NodeChange untaint_node(kube::Client& client, const std::string& node, const std::string& run_id);

}  // namespace faultline::chaos
