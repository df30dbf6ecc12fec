#include "runner/experiment/preconditions.h"

#include <set>

#include "runner/chaos/cluster_view.h"
#include "runner/common/error.h"

namespace faultline::experiment {

namespace res = kube::resources;
using json = nlohmann::json;
using Kind = kube::ApiError::Kind;

namespace {

bool exists(kube::Client& client, const kube::Resource& r, const std::string& ns,
            const std::string& name) {
  try {
    client.get(r, ns, name);
    return true;
  } catch (const kube::ApiError& e) {
    if (e.kind() == Kind::NotFound) return false;
    throw;
  }
}

// Preflight asks only "is there one?": each list below reads page by page,
// projected, and stops at the first match. (It listed the
// target's pods, the nodes and the slices whole: at 1,500 pods ~40 MB of DOM,
// most of the runner's peak heap by heaptrack, issue 14.)
// A first page this small nearly always answers (its body is ~0.3 MB of pods).
constexpr int64_t kAnyPageSize = 100;

bool any_active_pod(kube::Client& client, const std::string& ns, const std::string& selector,
                    const std::string& what) {
  kube::ListOptions o;
  o.label_selector = selector;
  o.limit = kAnyPageSize;
  o.project = chaos::project_pod_state;
  bool found = false;
  try {
    client.list_each(res::kPods, ns, o, [&](json& pod) {
      found = !chaos::pod_terminating(pod);
      return !found;
    });
  } catch (const kube::ApiError& e) {
    if (e.kind() == Kind::BadRequest)
      throw InputError(what + ": the API server refused the selector \"" + selector +
                       "\": " + e.what());
    throw;
  }
  return found;
}

bool any_ready_endpoint(kube::Client& client, const std::string& ns, const std::string& service) {
  kube::ListOptions o;
  o.label_selector = "kubernetes.io/service-name=" + service;
  o.limit = kAnyPageSize;
  o.project = [](json&) {};  // decoded without managedFields
  bool found = false;
  client.list_each(res::kEndpointSlices, ns, o, [&](json& slice) {
    for (const auto& ep : slice.value("endpoints", json::array()))
      if (ep.value("conditions", json::object()).value("ready", false)) found = true;
    return !found;
  });
  return found;
}

class Checker {
 public:
  Checker(kube::Client& client, const Experiment& e) : client_(client), e_(e) {}

  std::vector<std::string> run() {
    const auto& ns = e_.target.namespace_;
    // No get on the namespace: the in-cluster Role may read only its own
    // (manifests/base/rbac-namespace.yaml); a missing namespace has no pods.
    zones();
    if (!any_active_pod(client_, ns, e_.target.selector, "spec.target.selector"))
      refuse("target selector \"" + e_.target.selector + "\" matches no pod in namespace " + ns);
    for (const auto& service : services()) check_service(service);
    for (const auto& p : e_.probes)
      if (auto* pods = std::get_if<observe::PodsProbeSpec>(&p.spec);
          pods && !pods->selector.empty())
        if (!any_active_pod(client_, ns, pods->selector, "probe " + p.name + " selector"))
          refuse("probe " + p.name + ": selector \"" + pods->selector +
                 "\" matches no pod in namespace " + ns);
    for (const auto& pdb : pdbs())
      if (!exists(client_, res::kPodDisruptionBudgets, ns, pdb))
        refuse("PodDisruptionBudget " + ns + "/" + pdb + " does not exist");
    return reasons_;
  }

 private:
  void refuse(const std::string& reason) { reasons_.push_back(reason); }

  // Every Service the spec names: the target's and the probes' and SLOs'.
  std::set<std::string> services() const {
    std::set<std::string> out;
    if (!e_.target.service.empty()) out.insert(e_.target.service);
    for (const auto& p : e_.probes)
      if (auto* ep = std::get_if<observe::EndpointsProbeSpec>(&p.spec); ep && !ep->service.empty())
        out.insert(ep->service);
    for (const auto& s : e_.slos)
      if (s.kind == slo::SloKind::ReadyEndpoints && !s.service.empty()) out.insert(s.service);
    return out;
  }

  void check_service(const std::string& service) {
    const auto& ns = e_.target.namespace_;
    if (!exists(client_, res::kServices, ns, service)) {
      refuse("Service " + ns + "/" + service + " does not exist");
      return;
    }
    if (!any_ready_endpoint(client_, ns, service))
      refuse("Service " + ns + "/" + service + " has no ready endpoints");
  }

  // PDBs named by a pdb SLO or by params.pdb (pdb_violation.lua).
  std::set<std::string> pdbs() const {
    std::set<std::string> out;
    for (const auto& s : e_.slos)
      if (s.kind == slo::SloKind::Pdb && !s.pdb.empty()) out.insert(s.pdb);
    if (e_.params.contains("pdb") && e_.params["pdb"].is_string())
      out.insert(e_.params["pdb"].get<std::string>());
    return out;
  }

  // params.zone / params.zones name zones: each must have nodes, or the input
  // is wrong for this cluster (exit 2), not the cluster broken.
  void zones() {
    std::vector<std::string> named;
    if (e_.params.contains("zone") && e_.params["zone"].is_string())
      named.push_back(e_.params["zone"]);
    if (e_.params.contains("zones") && e_.params["zones"].is_array())
      for (const auto& z : e_.params["zones"])
        if (z.is_string()) named.push_back(z);
    if (named.empty()) return;
    const auto zones = chaos::ClusterView(client_).zones();  // nodes listed projected
    const std::set<std::string> present(zones.begin(), zones.end());
    for (const auto& z : named) {
      if (present.count(z)) continue;
      std::string known;
      for (const auto& p : present) known += (known.empty() ? "" : ", ") + p;
      throw InputError(
          e_.file + ": params: zone \"" + z +
          "\" has no nodes in this cluster (zones: " + (known.empty() ? "none" : known) + ")");
    }
  }

  kube::Client& client_;
  const Experiment& e_;
  std::vector<std::string> reasons_;
};

}  // namespace

std::vector<std::string> check_preconditions(kube::Client& client, const Experiment& experiment) {
  return Checker(client, experiment).run();
}

}  // namespace faultline::experiment
