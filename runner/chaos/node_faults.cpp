#include "runner/chaos/node_faults.h"

#include <optional>

#include "runner/chaos/journal.h"

namespace faultline::chaos {

namespace res = kube::resources;
using json = nlohmann::json;
using Kind = kube::ApiError::Kind;

namespace {

// RFC 6901: "faultline.io/cordoned-by" is /metadata/annotations/faultline.io~1cordoned-by.
std::string pointer_token(const std::string& key) {
  std::string out;
  for (char c : key) out += c == '~' ? "~0" : c == '/' ? "~1" : std::string(1, c);
  return out;
}

// The merge patch `patch` (spec keys set, annotations set or removed) as a
// JSON patch that applies only while the node's spec, and each annotation
// it changes, are what `listed` shows. The test is on what the decision read,
// not on the resourceVersion: a kwok or kubelet status heartbeat moves the
// resourceVersion of most nodes within a 1,000-node fan-out (measured: 56% of
// patches refused with 409), never the spec. Without a spec or an
// annotations map to test and add to, there is no such patch (nullopt).
std::optional<json> guarded_json_patch(const json& listed, const json& patch) {
  const json& meta = listed["metadata"];
  if (!listed.contains("spec") || !listed["spec"].is_object() || !meta.contains("annotations") ||
      !meta["annotations"].is_object())
    return std::nullopt;
  const json& annotations = meta["annotations"];
  json ops = json::array({{{"op", "test"}, {"path", "/spec"}, {"value", listed["spec"]}}});
  const json changed = patch.contains("metadata")
                           ? patch["metadata"].value("annotations", json::object())
                           : json::object();
  for (const auto& [key, value] : changed.items()) {
    std::string path = "/metadata/annotations/" + pointer_token(key);
    bool present = annotations.contains(key);
    if (present) ops.push_back({{"op", "test"}, {"path", path}, {"value", annotations[key]}});
    if (!value.is_null())
      ops.push_back({{"op", "add"}, {"path", path}, {"value", value}});
    else if (present)
      ops.push_back({{"op", "remove"}, {"path", path}});
  }
  const json spec = patch.value("spec", json::object());
  for (const auto& [key, value] : spec.items()) {
    if (value.is_null()) return std::nullopt;  // a removal: not one our faults make
    ops.push_back({{"op", "add"}, {"path", "/spec/" + pointer_token(key)}, {"value", value}});
  }
  return ops;
}

// decide → patch → on a refusal read the node again and decide again.
// `listed` (the node as a recent list returned it) saves the GET: the patch
// is a JSON patch whose test ops hold it to what the decision read
// (guarded_json_patch), and a node that changed there answers 422 and is read
// afresh. Only a patch is ever decided from a list: "nothing to do" is
// confirmed by a GET, since a list may predate a change that matters (our
// own cordon, an operator's uncordon). A read node is patched with its
// resourceVersion (409 if it moved since).
template <typename Decide>
NodeChange modify(kube::Client& client, const std::string& node, const json* listed,
                  Decide decide) {
  const bool usable = listed != nullptr && listed->is_object() && listed->contains("metadata") &&
                      (*listed)["metadata"].is_object();
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
    if (from_list) {
      if (auto ops = guarded_json_patch(current, patch)) {
        try {
          client.patch(res::kNodes, "", node, *ops, kube::PatchType::Json);
          return NodeChange::Applied;
        } catch (const kube::ApiError& e) {
          if (e.kind() == Kind::NotFound) return NodeChange::Gone;
          // 422: a test op failed (the node changed where it matters).
          if (e.kind() != Kind::Invalid && e.kind() != Kind::Conflict) throw;
          continue;
        }
      }
      if (current["metadata"].value("resourceVersion", "").empty()) continue;
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
