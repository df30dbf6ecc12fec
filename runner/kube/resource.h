// REST addressing of the Kubernetes resources faultline uses.
#pragma once

#include <string>

namespace faultline::kube {

struct Resource {
  std::string group;    // "" for the core group
  std::string version;  // "v1"
  std::string plural;   // "pods"
  bool namespaced = true;

  // "/api/v1/namespaces/ns/pods/name/eviction" and friends. ns is ignored
  // for cluster-scoped resources; an empty ns on a namespaced resource lists
  // across all namespaces. name and subresource may be empty.
  std::string path(const std::string& ns, const std::string& name = "",
                   const std::string& subresource = "") const;
  // "pods", "deployments.apps": for messages.
  std::string display() const;
};

namespace resources {
extern const Resource kNamespaces, kNodes, kPods, kServices, kConfigMaps, kEvents;
extern const Resource kEndpointSlices, kDeployments, kReplicaSets, kStatefulSets, kDaemonSets;
extern const Resource kPodDisruptionBudgets, kLeases;
}  // namespace resources

}  // namespace faultline::kube
