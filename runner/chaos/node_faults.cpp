#include "runner/chaos/node_faults.h"

#include "runner/chaos/journal.h"

namespace faultline::chaos {

namespace res = kube::resources;
using json = nlohmann::json;
using Kind = kube::ApiError::Kind;

namespace {

// decide → patch with the node's resourceVersion; on 409 read again.
// `listed` (the node as a recent list returned it) saves the GET: its
// resourceVersion still guards the patch, so a node that moved since answers
// 409 and is read afresh. Only a patch is ever decided from it: "nothing to
// do" is confirmed by a GET, since a list may predate a change that matters
// (our own cordon, an operator's uncordon).
template <typename Decide>
NodeChange modify(kube::Client& client, const std::string& node, const json* listed,
                  Decide decide) {
  const bool usable = listed != nullptr && listed->is_object() && listed->contains("metadata") &&
                      !(*listed)["metadata"].value("resourceVersion", "").empty();
  for (int attempt = 0;; ++attempt) {
    const bool from_list = usable && attempt == 0;
    json fetched;
    if (!from_list) {
      try {
        fetched = client.get(res::kNodes, "", node);
      } catch (const kube::ApiError& e) {
        if (e.kind() == Kind::NotFound) return NodeChange::Gone;
        throw;
      }
    }
    const json& current = from_list ? *listed : fetched;
    json patch;
    if (!decide(current, patch)) {
      if (from_list) continue;
      return NodeChange::AlreadyThere;
    }
    patch["metadata"]["resourceVersion"] = current["metadata"].value("resourceVersion", "");
    try {
      client.patch(res::kNodes, "", node, patch, kube::PatchType::Merge);
      return NodeChange::Applied;
    } catch (const kube::ApiError& e) {
      if (e.kind() == Kind::NotFound) return NodeChange::Gone;
      if (e.kind() != Kind::Conflict || attempt >= 10) throw;
    }
  }
}

std::string annotation(const json& node, const char* key) {
  return node["metadata"].value("annotations", json::object()).value(key, "");
}

}  // namespace

NodeChange cordon_node(kube::Client& client, const std::string& node, const std::string& run_id,
                       const json* listed) {
  return modify(client, node, listed, [&](const json& n, json& patch) {
    if (n.value("spec", json::object()).value("unschedulable", false)) return false;
    patch = {{"spec", {{"unschedulable", true}}},
             {"metadata", {{"annotations", {{kCordonedAnnotation, run_id}}}}}};
    return true;
  });
}

NodeChange uncordon_node(kube::Client& client, const std::string& node, const std::string& run_id,
                         const json* listed) {
  return modify(client, node, listed, [&](const json& n, json& patch) {
    if (annotation(n, kCordonedAnnotation) != run_id) return false;
    patch = {{"spec", {{"unschedulable", false}}},
             {"metadata", {{"annotations", {{kCordonedAnnotation, nullptr}}}}}};
    return true;
  });
}

NodeChange taint_node(kube::Client& client, const std::string& node, const std::string& run_id,
                      const json* listed) {
  return modify(client, node, listed, [&](const json& n, json& patch) {
    json taints = n.value("spec", json::object()).value("taints", json::array());
    // Ours is key AND effect: someone's faultline.io/zone-failure:NoSchedule
    // does not evict anything, so it does not fail the node.
    for (const auto& t : taints)
      if (t.value("key", "") == kFailureTaintKey && t.value("effect", "") == "NoExecute")
        return false;
    taints.push_back({{"key", kFailureTaintKey}, {"value", run_id}, {"effect", "NoExecute"}});
    patch = {{"spec", {{"taints", taints}}},
             {"metadata", {{"annotations", {{kTaintedAnnotation, run_id}}}}}};
    return true;
  });
}

NodeChange untaint_node(kube::Client& client, const std::string& node, const std::string& run_id,
                        const json* listed) {
  return modify(client, node, listed, [&](const json& n, json& patch) {
    json kept = json::array();
    bool found = false;
    for (const auto& t : n.value("spec", json::object()).value("taints", json::array())) {
      if (t.value("key", "") == kFailureTaintKey && t.value("effect", "") == "NoExecute" &&
          t.value("value", "") == run_id) {
        found = true;
      } else {
        kept.push_back(t);
      }
    }
    if (!found && annotation(n, kTaintedAnnotation) != run_id) return false;
    patch = {{"spec", {{"taints", kept}}},
             {"metadata", {{"annotations", {{kTaintedAnnotation, nullptr}}}}}};
    return true;
  });
}

}  // namespace faultline::chaos
