// The Observer end to end: a real http probe against the loopback test
// server, and the Kubernetes probes through the real kube::Client over a
// scripted transport (list answers, then watch streams that stay open).
#include "runner/observe/observer.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "runner/slo/evaluate.h"
#include "tests/unit/observe/test_http_server.h"

namespace faultline::observe {
namespace {

using json = nlohmann::json;
using std::chrono::milliseconds;

// Answers GETs by path (query ignored) and streams scripted watch events,
// then holds the stream open until the watcher stops.
class ScriptedTransport : public kube::HttpTransport {
 public:
  void on_get(const std::string& path, json body) {
    std::lock_guard lock(mu_);
    gets_[path] = std::move(body);
  }
  void on_watch(const std::string& path, std::vector<json> events) {
    std::lock_guard lock(mu_);
    watches_[path] = std::move(events);
  }
  // The answer to GETs of path comes after `delay` (a big list on a busy
  // control plane).
  void delay_get(const std::string& path, milliseconds delay) {
    std::lock_guard lock(mu_);
    delays_[path] = delay;
  }
  std::vector<std::string> requested() const {
    std::lock_guard lock(mu_);
    return requested_;
  }

  kube::HttpResponse send(const kube::HttpRequest& r) override {
    milliseconds delay{0};
    {
      std::lock_guard lock(mu_);
      auto d = delays_.find(r.path.substr(0, r.path.find('?')));
      if (d != delays_.end()) delay = d->second;
    }
    std::this_thread::sleep_for(delay);
    std::lock_guard lock(mu_);
    requested_.push_back(r.method + " " + r.path);
    auto it = gets_.find(r.path.substr(0, r.path.find('?')));
    if (it == gets_.end())
      return {404, {}, R"({"kind":"Status","code":404,"reason":"NotFound","message":"not found"})"};
    return {200, {{"content-type", "application/json"}}, it->second.dump()};
  }

  kube::HttpResponse stream(const kube::HttpRequest& r,
                            const std::function<void(std::string_view)>& on_data,
                            std::stop_token stop) override {
    std::vector<json> events;
    {
      std::lock_guard lock(mu_);
      requested_.push_back("WATCH " + r.path);
      auto it = watches_.find(r.path.substr(0, r.path.find('?')));
      if (it != watches_.end()) events.swap(it->second);  // once: a reconnect sees nothing new
    }
    for (const auto& e : events) on_data(e.dump() + "\n");
    std::mutex mu;
    std::condition_variable_any cv;
    std::unique_lock lock(mu);
    cv.wait(lock, stop, [] { return false; });
    return {200, {}, ""};
  }

 private:
  mutable std::mutex mu_;
  std::map<std::string, json> gets_;
  std::map<std::string, milliseconds> delays_;
  std::map<std::string, std::vector<json>> watches_;
  std::vector<std::string> requested_;
};

json list_of(std::vector<json> items) {
  return {{"kind", "List"}, {"metadata", {{"resourceVersion", "10"}}}, {"items", std::move(items)}};
}

json meta(const std::string& name, const std::string& rv = "5") {
  return {{"name", name}, {"uid", "uid-" + name}, {"resourceVersion", rv}};
}

ProbeSpec probe(const std::string& name, decltype(ProbeSpec::spec) spec) {
  ProbeSpec p;
  p.name = name;
  p.spec = std::move(spec);
  return p;
}

// Polls the observer until pred holds on a snapshot (up to 10 s).
bool eventually(const Observer& o, const std::function<bool(const TimelineSnapshot&)>& pred) {
  for (int i = 0; i < 200; ++i) {
    if (pred(o.snapshot())) return true;
    std::this_thread::sleep_for(milliseconds(50));
  }
  return false;
}

TEST(Observer, HttpProbeFillsTheTimelineAndTheLiveStatus) {
  faultline::testing::TestHttpServer server;
  HttpProbeSpec http;
  http.url = server.url("/healthz");
  http.rate = 100;
  ObserveContext ctx;
  Observer o({probe("http", http)}, ctx);
  o.start();
  ASSERT_TRUE(eventually(o, [](const auto& s) { return s.requests.at("http").size() >= 10; }));
  o.set_faulted_zones({"zone-a"});
  o.mark_fault_start(1.5);
  int id = o.begin_disruption("drain zone-a", true);
  o.end_disruption(id);
  auto live = o.live(5);
  o.stop();
  ASSERT_EQ(live.availability.size(), 1u);
  EXPECT_EQ(live.availability[0].probe, "http");
  EXPECT_GE(live.availability[0].total, 10);
  EXPECT_EQ(live.availability[0].ok, live.availability[0].total);
  auto snap = o.snapshot();
  EXPECT_EQ(snap.fault_start, 1.5);
  EXPECT_EQ(snap.faulted_zones, std::vector<std::string>{"zone-a"});
  ASSERT_EQ(snap.disruptions.size(), 1u);
  EXPECT_TRUE(snap.disruptions[0].to.has_value());
  EXPECT_TRUE(o.failures().empty());
  EXPECT_EQ(server.requests(), static_cast<long>(snap.requests["http"].size()));
}

TEST(Observer, AnEvictionIsRecordedUnderTheVoluntaryDisruptionOpenAtItsTime) {
  Observer o({}, ObserveContext{});
  int id = o.begin_disruption("drain zone-a", true);
  double during = o.now();
  o.add_eviction("shop", "web-1", "n1", during);
  o.end_disruption(id);
  o.add_eviction("shop", "web-2", "n2", o.now() + 1);  // after the drain ended
  auto snap = o.snapshot();
  ASSERT_EQ(snap.evictions.size(), 2u);
  EXPECT_EQ(snap.evictions[0].t, during);
  EXPECT_EQ(snap.evictions[0].pod, "shop/web-1");
  EXPECT_EQ(snap.evictions[0].node, "n1");
  EXPECT_EQ(snap.evictions[0].label, "drain zone-a");
  EXPECT_EQ(snap.evictions[1].pod, "shop/web-2");
  EXPECT_EQ(snap.evictions[1].label, "");
}

TEST(Observer, KubernetesProbeWithoutAClientIsRefused) {
  EXPECT_THROW(Observer({probe("eps", EndpointsProbeSpec{"web"})}, ObserveContext{}),
               std::invalid_argument);
}

TEST(Observer, EndpointsProbeFollowsTheServicesSlices) {
  auto transport = std::make_shared<ScriptedTransport>();
  const std::string path = "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices";
  auto slice = [](int ready) {
    json eps = json::array();
    for (int i = 0; i < 2; ++i)
      eps.push_back({{"addresses", {"10.0.0." + std::to_string(i)}},
                     {"zone", i == 0 ? "zone-a" : "zone-b"},
                     {"conditions", {{"ready", i < ready}}},
                     {"targetRef", {{"uid", "pod-" + std::to_string(i)}}}});
    return json{{"metadata", meta("web-abc", std::to_string(5 + ready))}, {"endpoints", eps}};
  };
  transport->on_get(path, list_of({slice(2)}));
  transport->on_watch(path, {{{"type", "MODIFIED"}, {"object", slice(1)}}});
  kube::ClientConfig config;
  config.server = "https://127.0.0.1:1";
  kube::Client client(config, transport);
  ObserveContext ctx;
  ctx.client = &client;
  ctx.namespace_ = "shop";
  ctx.service = "web";
  Observer o({probe("eps", EndpointsProbeSpec{})}, ctx);
  o.start();
  ASSERT_TRUE(eventually(o, [](const auto& s) {
    const auto& v = s.endpoints.at("eps");
    return v.size() >= 2 && v.back().ready_total == 1;
  })) << ::testing::PrintToString(transport->requested());
  o.stop();
  auto v = o.snapshot().endpoints["eps"];
  EXPECT_EQ(v.front().ready_total, 2);
  EXPECT_EQ(v.back().ready_by_zone, (std::map<std::string, int>{{"zone-a", 1}, {"zone-b", 0}}));
  EXPECT_THAT(transport->requested(), ::testing::Contains(::testing::HasSubstr(
                                          "labelSelector=kubernetes.io%2Fservice-name%3Dweb")));
  EXPECT_TRUE(o.failures().empty());
}

json pod(const std::string& name, const std::string& node, bool ready) {
  return {
      {"metadata",
       {{"name", name},
        {"uid", "uid-" + name},
        {"resourceVersion", ready ? "7" : "6"},
        {"ownerReferences", {{{"kind", "ReplicaSet"}, {"name", "web-1"}, {"controller", true}}}}}},
      {"spec", {{"nodeName", node}}},
      {"status",
       {{"phase", "Running"},
        {"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}}}}};
}

// A pods probe on shop, selector app=web, through transport.
struct PodsProbe {
  static ObserveContext context(kube::Client& client) {
    ObserveContext ctx;
    ctx.client = &client;
    ctx.namespace_ = "shop";
    ctx.selector = "app=web";
    return ctx;
  }
  static kube::ClientConfig config() {
    kube::ClientConfig c;
    c.server = "https://127.0.0.1:1";
    return c;
  }
  explicit PodsProbe(std::shared_ptr<ScriptedTransport> transport)
      : client(config(), std::move(transport)),
        observer({probe("pods", PodsProbeSpec{})}, context(client)) {}
  kube::Client client;
  Observer observer;
};

TEST(Observer, PodsProbeTracksZonesDesiredReplicasAndReadyMoments) {
  auto transport = std::make_shared<ScriptedTransport>();
  auto node = [](const std::string& name, const std::string& zone) {
    return json{{"metadata",
                 {{"name", name},
                  {"uid", "uid-" + name},
                  {"resourceVersion", "1"},
                  {"labels", {{"topology.kubernetes.io/zone", zone}}}}}};
  };
  transport->on_get("/api/v1/nodes", list_of({node("n-a", "zone-a"), node("n-b", "zone-b")}));
  transport->on_get(
      "/api/v1/namespaces/shop/pods",
      list_of({pod("p1", "n-a", true), pod("p2", "n-b", true), pod("p3", "n-b", false)}));
  transport->on_watch("/api/v1/namespaces/shop/pods",
                      {{{"type", "MODIFIED"}, {"object", pod("p3", "n-b", true)}}});
  transport->on_get(
      "/apis/apps/v1/namespaces/shop/replicasets/web-1",
      {{"metadata",
        {{"name", "web-1"},
         {"ownerReferences", {{{"kind", "Deployment"}, {"name", "web"}, {"controller", true}}}}}},
       {"spec", {{"replicas", 3}}}});
  transport->on_get("/apis/apps/v1/namespaces/shop/deployments/web",
                    {{"metadata", {{"name", "web"}}}, {"spec", {{"replicas", 3}}}});
  transport->on_get("/apis/policy/v1/namespaces/shop/poddisruptionbudgets",
                    list_of({{{"metadata", meta("web-pdb")},
                              {"status", {{"desiredHealthy", 2}, {"currentHealthy", 2}}}}}));
  PodsProbe probe_of(transport);
  auto& o = probe_of.observer;
  o.start();
  ASSERT_TRUE(eventually(o, [](const auto& s) {
    const auto& v = s.pods.at("pods");
    return !v.empty() && v.back().ready == 3 && !s.pdbs.empty();
  })) << ::testing::PrintToString(transport->requested());
  o.stop();
  auto snap = o.snapshot();
  const auto& last = snap.pods["pods"].back();
  EXPECT_EQ(last.desired, 3);
  EXPECT_EQ(last.ready_by_zone, (std::map<std::string, int>{{"zone-a", 1}, {"zone-b", 2}}));
  ASSERT_FALSE(snap.ready_events.empty());
  EXPECT_EQ(snap.ready_events.back().pod, "p3");
  EXPECT_EQ(snap.ready_events.back().zone, "zone-b");
  EXPECT_EQ(snap.pdbs.back().name, "web-pdb");
  EXPECT_EQ(snap.pdbs.back().desired_healthy, 2);
  o.set_faulted_zones({"zone-b"});
  EXPECT_EQ(o.live().pods_on_faulted_zones, 2);
  EXPECT_TRUE(o.failures().empty());
}

// Issue 14: at 1,800 pods the pdb SLO reported a breach that never happened:
// the initial list was sampled one pod at a time, inside the drain's window.
// Replayed here: a drain starts while a slow list of 1,800 Ready pods is on
// its way (PDB floor 1,620); the timeline must show only the synced view,
// and a real breach after it (200 pods turning unready) is still reported.
TEST(Observer, PdbSloIsJudgedOnlyOnASyncedViewOfASlowInitialList) {
  auto transport = std::make_shared<ScriptedTransport>();
  transport->on_get("/api/v1/nodes",
                    list_of({{{"metadata",
                               {{"name", "n-a"},
                                {"uid", "uid-n-a"},
                                {"resourceVersion", "1"},
                                {"labels", {{"topology.kubernetes.io/zone", "zone-a"}}}}}}}));
  std::vector<json> pods, unready;
  for (int i = 0; i < 1800; ++i) pods.push_back(pod("p" + std::to_string(i), "n-a", true));
  for (int i = 0; i < 200; ++i) {
    auto p = pod("p" + std::to_string(i), "n-a", false);
    p["metadata"]["resourceVersion"] = "20";
    unready.push_back({{"type", "MODIFIED"}, {"object", p}});
  }
  transport->on_get("/api/v1/namespaces/shop/pods", list_of(pods));
  transport->delay_get("/api/v1/namespaces/shop/pods", milliseconds(600));
  transport->on_watch("/api/v1/namespaces/shop/pods", unready);
  transport->on_get("/apis/apps/v1/namespaces/shop/replicasets/web-1",
                    {{"metadata", {{"name", "web-1"}}}, {"spec", {{"replicas", 1800}}}});
  transport->on_get("/apis/policy/v1/namespaces/shop/poddisruptionbudgets",
                    list_of({{{"metadata", meta("web-pdb")},
                              {"spec", {{"maxUnavailable", "10%"}}},
                              {"status", {{"desiredHealthy", 1620}, {"currentHealthy", 1800}}}}}));
  PodsProbe probe_of(transport);
  auto& o = probe_of.observer;
  o.start();
  o.mark_fault_start();
  int drain = o.begin_disruption("drain zone-a", true);  // before the list has arrived
  ASSERT_TRUE(eventually(o, [](const auto& s) {
    const auto& v = s.pods.at("pods");
    return !v.empty() && v.back().ready == 1600 && !s.pdbs.empty();
  })) << ::testing::PrintToString(transport->requested());
  o.end_disruption(drain);
  o.stop();
  auto snap = o.snapshot();
  const auto& samples = snap.pods.at("pods");
  EXPECT_EQ(samples.front().ready, 1800);  // the list, whole
  EXPECT_LT(samples.size(), 220u);         // one per watch event, not one per listed pod
  EXPECT_TRUE(snap.ready_events.empty());  // Ready before the run: no transition of it

  slo::SloSpec spec;
  spec.kind = slo::SloKind::Pdb;
  spec.probe = "pods";
  auto r = slo::evaluate(spec, snap, slo::EvalWindow::verify(snap, o.now()));
  EXPECT_FALSE(r.passed);
  EXPECT_EQ(r.measured_text, "min 1600 Ready") << r.detail;
  EXPECT_EQ(r.bound_text, ">= 1620 Ready (maxUnavailable 10%)");
}

TEST(Observer, AWatchTheApiServerForbidsIsRecordedAsAProbeFailure) {
  auto transport = std::make_shared<ScriptedTransport>();  // every list answers 404
  kube::ClientConfig config;
  config.server = "https://127.0.0.1:1";
  kube::Client client(config, transport);
  ObserveContext ctx;
  ctx.client = &client;
  ctx.namespace_ = "shop";
  ctx.service = "web";
  Observer o({probe("eps", EndpointsProbeSpec{})}, ctx);
  o.start();
  for (int i = 0; i < 200 && o.failures().empty(); ++i)
    std::this_thread::sleep_for(milliseconds(50));
  o.stop();
  auto failures = o.failures();
  ASSERT_FALSE(failures.empty());
  EXPECT_EQ(failures[0].probe, "eps");
  EXPECT_THAT(failures[0].message, ::testing::HasSubstr("endpointslices.discovery.k8s.io watch"));
}

}  // namespace
}  // namespace faultline::observe
