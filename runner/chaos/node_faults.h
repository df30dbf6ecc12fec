// Single-node mutations, each carrying the run's annotation in the same patch
// so the node itself records who changed it. Optimistic concurrency
// (resourceVersion) so we never overwrite a change someone made meanwhile.
//
// Each takes the node as a recent list returned it, when the caller has one
// (`listed`, may be null): the patch goes out without a GET first, guarded by
// the listed resourceVersion (1 request per node instead of 2; issue 14).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "runner/kube/client.h"

namespace faultline::chaos {

enum class NodeChange { Applied, AlreadyThere, Gone };

// Cordon unless already unschedulable (a node cordoned before the run stays
// cordoned after it: we record AlreadyThere and never undo it).
NodeChange cordon_node(kube::Client& client, const std::string& node, const std::string& run_id,
                       const nlohmann::json* listed = nullptr);
// Uncordon only what run_id cordoned (the annotation says so).
NodeChange uncordon_node(kube::Client& client, const std::string& node, const std::string& run_id,
                         const nlohmann::json* listed = nullptr);
// Add/remove the faultline.io/zone-failure=run_id:NoExecute taint.
NodeChange taint_node(kube::Client& client, const std::string& node, const std::string& run_id,
                      const nlohmann::json* listed = nullptr);
NodeChange untaint_node(kube::Client& client, const std::string& node, const std::string& run_id,
                        const nlohmann::json* listed = nullptr);

}  // namespace faultline::chaos
