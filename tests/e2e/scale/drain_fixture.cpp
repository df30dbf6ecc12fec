#include "tests/e2e/scale/drain_fixture.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "runner/chaos/cluster_view.h"
#include "runner/chaos/journal.h"
#include "runner/kube/resource.h"

namespace faultline::testing {

using json = nlohmann::json;
namespace res = kube::resources;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kScaleLabel = "faultline.io/scale";
constexpr const char* kApp = "fill";

json node(const std::string& name, const std::string& zone, int pods) {
  json capacity = {{"cpu", "64"}, {"memory", "256Gi"}, {"pods", std::to_string(pods)}};
  return {
      {"apiVersion", "v1"},
      {"kind", "Node"},
      {"metadata",
       {{"name", name},
        {"labels",
         {{"topology.kubernetes.io/zone", zone},
          {"kubernetes.io/hostname", name},
          {"kubernetes.io/os", "linux"},
          {kScaleLabel, "true"},
          {"type", "kwok"}}},
        // The cluster's "rest" kwok manages nodes outside its zones.
        {"annotations", {{"kwok.x-k8s.io/node", "fake"}, {"node.alpha.kubernetes.io/ttl", "0"}}}}},
      // Only this test's pods land here.
      {"spec",
       {{"taints",
         json::array({{{"key", kScaleLabel}, {"value", "true"}, {"effect", "NoSchedule"}}})}}},
      {"status", {{"allocatable", capacity}, {"capacity", capacity}}}};
}

void create_nodes(kube::Client& client, const std::string& zone, int count, int pods_each) {
  for (int i = 1; i <= count; ++i)
    client.create(res::kNodes, "", node(zone + "-" + std::to_string(i), zone, pods_each));
}

json deployment(int replicas, const std::string& ready_delay) {
  json labels = {{"app", kApp}};
  json meta = {{"labels", labels}};
  if (!ready_delay.empty())
    meta["annotations"] = {{"pod-ready.stage.kwok.x-k8s.io/delay", ready_delay}};
  return {{"apiVersion", "apps/v1"},
          {"kind", "Deployment"},
          {"metadata", {{"name", kApp}, {"namespace", kScaleNamespace}}},
          {"spec",
           {{"replicas", replicas},
            {"selector", {{"matchLabels", labels}}},
            {"template",
             {{"metadata", meta},
              {"spec",
               {{"nodeSelector", {{kScaleLabel, "true"}}},
                {"tolerations", json::array({{{"key", kScaleLabel}, {"operator", "Exists"}}})},
                {"terminationGracePeriodSeconds", 0},
                {"containers", json::array({{{"name", "app"}, {"image", "fake"}}})}}}}}}}};
}

// Ready and not terminating, from a projected list.
template <typename F>
void each_pod(kube::Client& client, F&& f) {
  kube::ListOptions o;
  o.label_selector = std::string("app=") + kApp;
  client.list_each(res::kPods, kScaleNamespace, o, [&](json& pod) {
    f(pod);
    return true;
  });
}

void wait_until(const std::function<bool()>& done, std::chrono::seconds timeout,
                const std::string& what) {
  auto until = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > until) throw std::runtime_error("timed out waiting for " + what);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

}  // namespace

double wait_scale_ready(kube::Client& client, int pods, std::chrono::seconds timeout) {
  auto t0 = Clock::now();
  wait_until(
      [&] {
        int n = 0;
        each_pod(client, [&](const json& p) { n += chaos::pod_ready(p); });
        return n >= pods;
      },
      timeout, std::to_string(pods) + " Ready pods");
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

std::map<std::string, int> scale_ready_per_zone(kube::Client& client) {
  std::map<std::string, std::string> zone;
  for (const auto& n : chaos::items(client.list(res::kNodes, "")))
    zone[n["metadata"]["name"].get<std::string>()] =
        n["metadata"].value("labels", json::object()).value("topology.kubernetes.io/zone", "");
  std::map<std::string, int> out;
  each_pod(client, [&](const json& p) {
    if (chaos::pod_ready(p)) ++out[zone[chaos::pod_node(p)]];
  });
  return out;
}

void scale_up(kube::Client& client, const ScaleCluster& size) {
  scale_down(client);
  chaos::ensure_namespace(client, kScaleNamespace);
  // scale-a holds exactly `in_zone` pods; b and c hold the rest and the
  // drained zone's replacements, with room to spare.
  int a_nodes = std::max(1, size.in_zone / 100);
  create_nodes(client, "scale-a", a_nodes, size.in_zone / a_nodes);
  client.create(res::kPodDisruptionBudgets, kScaleNamespace,
                {{"apiVersion", "policy/v1"},
                 {"kind", "PodDisruptionBudget"},
                 {"metadata", {{"name", kApp}, {"namespace", kScaleNamespace}}},
                 {"spec",
                  {{"maxUnavailable", std::to_string(size.max_unavailable_percent) + "%"},
                   {"selector", {{"matchLabels", {{"app", kApp}}}}}}}});
  client.create(res::kDeployments, kScaleNamespace,
                deployment(a_nodes * (size.in_zone / a_nodes), size.ready_delay));
  wait_scale_ready(client, a_nodes * (size.in_zone / a_nodes), std::chrono::seconds(300));
  int other_nodes = static_cast<int>(std::ceil(size.pods / 2.0 / 100.0)) + 1;
  create_nodes(client, "scale-b", other_nodes, 110);
  create_nodes(client, "scale-c", other_nodes, 110);
  client.patch(res::kDeployments, kScaleNamespace, kApp, {{"spec", {{"replicas", size.pods}}}});
  wait_scale_ready(client, size.pods, std::chrono::seconds(600));
}

void scale_down(kube::Client& client) {
  try {
    client.remove(res::kDeployments, kScaleNamespace, kApp,
                  {std::nullopt, "Background", "", "", false});
  } catch (const kube::ApiError& e) {
    if (e.kind() != kube::ApiError::Kind::NotFound) throw;
  }
  try {
    client.remove(res::kPodDisruptionBudgets, kScaleNamespace, kApp);
  } catch (const kube::ApiError& e) {
    if (e.kind() != kube::ApiError::Kind::NotFound) throw;
  }
  wait_until(
      [&] {
        int n = 0;
        each_pod(client, [&](const json&) { ++n; });
        return n == 0;
      },
      std::chrono::seconds(300), "the scale pods to go");
  kube::ListOptions o;
  o.label_selector = std::string(kScaleLabel) + "=true";
  for (const auto& n : chaos::items(client.list(res::kNodes, "", o))) {
    try {
      client.remove(res::kNodes, "", n["metadata"]["name"].get<std::string>());
    } catch (const kube::ApiError& e) {
      if (e.kind() != kube::ApiError::Kind::NotFound) throw;
    }
  }
}

BudgetWatcher::BudgetWatcher(kube::Client client) : client_(std::move(client)) {
  for (const auto& n : chaos::items(client_.list(res::kNodes, "")))
    zone_of_node_[n["metadata"]["name"].get<std::string>()] =
        n["metadata"].value("labels", json::object()).value("topology.kubernetes.io/zone", "");
  auto watch = [this](const kube::Resource& r, auto handler) {
    return std::jthread([this, r, handler] {
      kube::ListOptions o;
      o.send_synced = true;
      try {
        client_.watch(
            r, kScaleNamespace, o,
            [&](const kube::WatchEvent& e) {
              (this->*handler)(e);
              return true;
            },
            stop_.get_token());
      } catch (const std::exception& e) {
        std::fprintf(stderr, "BudgetWatcher: %s\n", e.what());
      }
    });
  };
  pods_thread_ = watch(res::kPods, &BudgetWatcher::on_pod);
  pdb_thread_ = watch(res::kPodDisruptionBudgets, &BudgetWatcher::on_pdb);
}

BudgetWatcher::~BudgetWatcher() { stop_.request_stop(); }

void BudgetWatcher::wait_synced() {
  wait_until([&] { return pods_synced_ && pdb_synced_; }, std::chrono::seconds(120),
             "the budget watcher's first lists");
}

void BudgetWatcher::on_pod(const kube::WatchEvent& e) {
  std::lock_guard lock(mu_);
  if (e.type == "SYNCED") {
    pods_synced_ = true;
    min_healthy_ = healthy_;
    return;
  }
  std::string uid = e.object["metadata"].value("uid", "");
  auto it = pods_.find(uid);
  if (e.type == "DELETED") {
    if (it == pods_.end()) return;
    if (it->second.healthy) --healthy_;
    if (it->second.in_zone) {
      bool marked = it->second.marked;
      for (const auto& c :
           e.object.value("status", json::object()).value("conditions", json::array()))
        marked = marked || (c.value("type", "") == "DisruptionTarget" &&
                            c.value("reason", "") == "EvictionByEvictionAPI");
      ++(marked ? evicted_ : deleted_plain_);
    }
    pods_.erase(it);
  } else {
    bool fresh = it == pods_.end();
    Pod& p = pods_[uid];
    bool was = p.healthy;
    p.healthy = chaos::pod_ready(e.object);
    p.in_zone = zone_of_node_[chaos::pod_node(e.object)] == kScaleZone;
    for (const auto& c :
         e.object.value("status", json::object()).value("conditions", json::array()))
      p.marked = p.marked || (c.value("type", "") == "DisruptionTarget" &&
                              c.value("reason", "") == "EvictionByEvictionAPI");
    healthy_ += static_cast<int>(p.healthy) - static_cast<int>(was);
    if (fresh && !e.from_list) seen_[uid] = Clock::now();
    if (p.healthy && !was) {
      auto s = seen_.find(uid);
      if (s != seen_.end()) {
        to_ready_.push_back(std::chrono::duration<double>(Clock::now() - s->second).count());
        seen_.erase(s);
      }
    }
  }
  if (pods_synced_) min_healthy_ = std::min(min_healthy_.load(), healthy_);
}

void BudgetWatcher::on_pdb(const kube::WatchEvent& e) {
  if (e.type == "SYNCED") {
    pdb_synced_ = true;
    return;
  }
  if (e.type == "DELETED") return;
  const json& st = e.object.value("status", json::object());
  desired_healthy_ = static_cast<int>(st.value("desiredHealthy", 0));
  min_pdb_healthy_ =
      std::min(min_pdb_healthy_.load(), static_cast<int>(st.value("currentHealthy", 0)));
  min_allowed_ = std::min(min_allowed_.load(), static_cast<int>(st.value("disruptionsAllowed", 0)));
}

double BudgetWatcher::median_time_to_ready() const {
  std::lock_guard lock(mu_);
  if (to_ready_.empty()) return 0;
  auto v = to_ready_;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2), v.end());
  return v[v.size() / 2];
}

}  // namespace faultline::testing
