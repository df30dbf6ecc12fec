#include "runner/kube/resource.h"

#include "runner/kube/url.h"

namespace faultline::kube {

std::string Resource::path(const std::string& ns, const std::string& name,
                           const std::string& subresource) const {
  std::string p = group.empty() ? "/api/" + version : "/apis/" + group + "/" + version;
  if (namespaced && !ns.empty()) p += "/namespaces/" + url_escape(ns);
  p += "/" + plural;
  if (!name.empty()) p += "/" + url_escape(name);
  if (!subresource.empty()) p += "/" + subresource;
  return p;
}

std::string Resource::display() const { return group.empty() ? plural : plural + "." + group; }

namespace resources {
const Resource kNamespaces{"", "v1", "namespaces", false};
const Resource kNodes{"", "v1", "nodes", false};
const Resource kPods{"", "v1", "pods", true};
const Resource kServices{"", "v1", "services", true};
const Resource kConfigMaps{"", "v1", "configmaps", true};
const Resource kEvents{"", "v1", "events", true};
const Resource kEndpointSlices{"discovery.k8s.io", "v1", "endpointslices", true};
const Resource kDeployments{"apps", "v1", "deployments", true};
const Resource kReplicaSets{"apps", "v1", "replicasets", true};
const Resource kStatefulSets{"apps", "v1", "statefulsets", true};
const Resource kDaemonSets{"apps", "v1", "daemonsets", true};
const Resource kPodDisruptionBudgets{"policy", "v1", "poddisruptionbudgets", true};
const Resource kLeases{"coordination.k8s.io", "v1", "leases", true};
}  // namespace resources

}  // namespace faultline::kube
