#include "runner/chaos/drain_watches.h"

#include <algorithm>
#include <stdexcept>

#include "runner/chaos/cluster_view.h"
#include "runner/common/error.h"
#include "runner/common/log.h"
#include "runner/kube/projection.h"

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

bool mounts_emptydir(const json& pod) {
  const json* spec = pod.contains("spec") && pod["spec"].is_object() ? &pod["spec"] : nullptr;
  if (!spec || !spec->contains("volumes") || !(*spec)["volumes"].is_array()) return false;
  for (const auto& v : (*spec)["volumes"])
    if (v.is_object() && v.contains("emptyDir")) return true;
  return false;
}

bool is_mirror(const json& pod) {
  auto m = pod.find("metadata");
  if (m == pod.end() || !m->is_object()) return false;
  auto a = m->find("annotations");
  return a != m->end() && a->is_object() && a->contains("kubernetes.io/config.mirror");
}

// Of a pod on a drained node, what DrainPod is made of; of every other pod,
// its identity. The cut happens while the list's page is parsed.
void project_for_drain(json& pod, const std::set<std::string>& nodes) {
  if (!pod.is_object()) return;
  const json* spec = pod.contains("spec") && pod["spec"].is_object() ? &pod["spec"] : nullptr;
  const json* name = spec && spec->contains("nodeName") ? &(*spec)["nodeName"] : nullptr;
  if (!name || !name->is_string() || !nodes.count(name->get<std::string>())) {
    pod = kube::kept(pod, {{"metadata", {"name", "namespace", "uid", "resourceVersion"}},
                           {"spec", {"nodeName"}},
                           {"status", {}}});
    return;
  }
  json out = kube::kept(pod, {{"metadata",
                               {"name", "namespace", "uid", "resourceVersion", "labels",
                                "deletionTimestamp", "ownerReferences"}},
                              {"spec", {"nodeName"}},
                              {"status", {"phase"}}});
  if (is_mirror(pod)) out["metadata"]["annotations"] = {{"kubernetes.io/config.mirror", ""}};
  if (mounts_emptydir(pod))
    out["spec"]["volumes"] = json::array({json{{"emptyDir", json::object()}}});
  pod = std::move(out);
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
    if (!synced_ && e.from_list) {
      static const json kNone = json::object();
      auto it = e.object.find("metadata");
      const json& m = it != e.object.end() && it->is_object() ? *it : kNone;
      DrainPod p;
      p.ns = m.value("namespace", "");
      p.name = m.value("name", "");
      p.uid = m.value("uid", "");
      p.node = pod_node(e.object);
      p.phase = e.object.value("status", json::object()).value("phase", "");
      p.controller_kind = controller_kind(e.object);
      p.terminating = pod_terminating(e.object);
      p.mirror = is_mirror(e.object);
      p.emptydir = mounts_emptydir(e.object);
      json labels = m.contains("labels") && m["labels"].is_object() ? m["labels"] : json::object();
      auto& shared = labels_[labels.dump()];
      if (!shared) shared = std::make_shared<const json>(std::move(labels));
      p.labels = shared;
      first_list_.push_back(std::move(p));
    }
  }
  cv_.notify_all();
}

std::vector<DrainPod> DrainedPods::initial(Clock::time_point until, std::stop_token stop) {
  std::unique_lock lock(mu_);
  cv_.wait_until(lock, stop, until, [&] { return synced_ || error_; });
  if (error_) throw std::runtime_error("listing the pods to drain: " + *error_);
  if (stop.stop_requested()) throw AbortedError("run aborted");
  if (!synced_)
    throw std::runtime_error("the pods to drain were not listed before the drain timeout");
  // A pod deleted while the list was delivered is not drained; one listed
  // twice (the stream was cut before SYNCED and relisted) is drained once,
  // as last seen.
  std::vector<DrainPod> pods;
  std::set<std::string> taken;
  for (auto p = first_list_.rbegin(); p != first_list_.rend(); ++p)
    if (present_.count(p->uid) && taken.insert(p->uid).second) pods.push_back(std::move(*p));
  std::reverse(pods.begin(), pods.end());
  first_list_.clear();
  first_list_.shrink_to_fit();
  labels_.clear();
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
