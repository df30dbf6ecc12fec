#include "runner/chaos/drain_watches.h"

#include <stdexcept>

#include "runner/chaos/cluster_view.h"
#include "runner/common/error.h"
#include "runner/common/log.h"

namespace faultline::chaos {

using json = nlohmann::json;
namespace res = kube::resources;

BackgroundWatch::BackgroundWatch(kube::Client client, const kube::Resource& r,
                                 kube::ListOptions options,
                                 std::function<void(const kube::WatchEvent&)> on_event,
                                 std::function<void(const std::string&)> on_failure,
                                 std::stop_token parent)
    : link_(parent, std::function<void()>([this] { stop_.request_stop(); })),
      thread_([client, r, options = std::move(options), on_event = std::move(on_event),
               on_failure = std::move(on_failure), token = stop_.get_token()]() mutable {
        try {
          client.watch(
              r, "", options,
              [&](const kube::WatchEvent& e) {
                on_event(e);
                return true;
              },
              token);
        } catch (const std::exception& e) {
          on_failure(e.what());
        }
      }) {}

BackgroundWatch::~BackgroundWatch() {
  stop_.request_stop();
  if (thread_.joinable()) thread_.join();
}

namespace {

// What the drain's filter chain, its PDB matching and its evictions read of
// a pod on a drained node: identity, labels, owner, the mirror annotation,
// termination, node, phase, emptyDir volumes. Of every other pod: identity.
void project_for_drain(json& pod, const std::set<std::string>& nodes) {
  if (!pod.is_object()) return;
  json meta = json::object(), spec = json::object(), status = json::object();
  const json& m = pod.value("metadata", json::object());
  const json& sp = pod.value("spec", json::object());
  std::string node = sp.value("nodeName", "");
  bool on = nodes.count(node) > 0;
  for (const char* k : {"name", "namespace", "uid", "resourceVersion"})
    if (m.contains(k)) meta[k] = m[k];
  if (on) {
    for (const char* k : {"labels", "deletionTimestamp", "ownerReferences"})
      if (m.contains(k)) meta[k] = m[k];
    const json& ann = m.value("annotations", json::object());
    if (ann.contains("kubernetes.io/config.mirror"))
      meta["annotations"] = {{"kubernetes.io/config.mirror", ann["kubernetes.io/config.mirror"]}};
    json volumes = json::array();
    for (const auto& v : sp.value("volumes", json::array()))
      if (v.is_object() && v.contains("emptyDir"))
        volumes.push_back({{"name", v.value("name", "")}, {"emptyDir", v["emptyDir"]}});
    if (!volumes.empty()) spec["volumes"] = std::move(volumes);
    const json& st = pod.value("status", json::object());
    if (st.contains("phase")) status["phase"] = st["phase"];
  }
  if (!node.empty()) spec["nodeName"] = node;
  pod =
      json{{"metadata", std::move(meta)}, {"spec", std::move(spec)}, {"status", std::move(status)}};
}

std::string uid_of(const json& o) {
  return o.is_object() ? o.value("metadata", json::object()).value("uid", "") : "";
}

}  // namespace

DrainedPods::DrainedPods(kube::Client client, std::set<std::string> nodes, std::stop_token parent)
    : nodes_(std::move(nodes)),
      watch_(
          std::move(client), res::kPods,
          [this] {
            kube::ListOptions o;
            o.send_synced = true;
            o.project = [this](json& pod) { project_for_drain(pod, nodes_); };
            return o;
          }(),
          [this](const kube::WatchEvent& e) { on_event(e); },
          [this](const std::string& error) {
            std::lock_guard lock(mu_);
            error_ = error;
            cv_.notify_all();
          },
          parent) {}

void DrainedPods::on_event(const kube::WatchEvent& e) {
  std::lock_guard lock(mu_);
  if (e.type == "SYNCED") {
    synced_ = true;
  } else if (e.type == "DELETED") {
    present_.erase(uid_of(e.object));
  } else if (nodes_.count(pod_node(e.object))) {
    present_.insert(uid_of(e.object));
    if (!synced_ && e.from_list) first_list_.push_back(e.object);
  }
  cv_.notify_all();
}

std::vector<json> DrainedPods::initial(Clock::time_point until, std::stop_token stop) {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, stop, until, [&] { return synced_ || error_; });
  if (error_) throw std::runtime_error("listing the pods to drain: " + *error_);
  if (stop.stop_requested()) throw AbortedError("run aborted");
  if (!synced_)
    throw std::runtime_error("the pods to drain were not listed before the drain timeout");
  // A pod deleted while the list was delivered is not drained.
  std::vector<json> pods;
  for (auto& p : first_list_)
    if (present_.count(uid_of(p))) pods.push_back(std::move(p));
  first_list_.clear();
  first_list_.shrink_to_fit();
  return pods;
}

std::set<std::string> DrainedPods::wait_gone(std::set<std::string> uids, Clock::time_point until,
                                             std::stop_token stop) {
  std::unique_lock lock(mu_);
  auto still = [&] {
    for (auto it = uids.begin(); it != uids.end();)
      it = present_.count(*it) ? std::next(it) : uids.erase(it);
    return uids.empty() || error_.has_value();
  };
  cv_.wait_until(lock, stop, until, still);
  if (error_ && !uids.empty()) throw std::runtime_error("watching the evicted pods: " + *error_);
  return uids;
}

PdbFeed::PdbFeed(kube::Client client, EvictionQueue& queue, std::stop_token parent)
    : queue_(queue),
      watch_(
          std::move(client), res::kPodDisruptionBudgets,
          [] {
            kube::ListOptions o;
            o.send_synced = true;
            return o;
          }(),
          [this](const kube::WatchEvent& e) {
            if (e.type == "SYNCED")
              queue_.synced();
            else if (e.type == "DELETED")
              queue_.erase_pdb(e.object);
            else
              queue_.set_pdb(e.object);
          },
          [this](const std::string& error) {
            log::warn("drain: cannot watch PodDisruptionBudgets (" + error +
                      "); evictions a budget refuses are retried after a pause");
            queue_.blind();
          },
          parent) {}

}  // namespace faultline::chaos
