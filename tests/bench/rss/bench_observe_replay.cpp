// The observer's memory at production size without a production control
// plane: a child process serves a recorded pod, node and EndpointSlice (from
// the local kwok cluster, tests/bench/rss/recorded/) scaled to --pods pods on
// --nodes nodes in three zones, then streams a drain of zone-a (each pod
// there: terminating, deleted, a replacement added, scheduled, Ready). This
// process runs the pods and endpoints probes on it (the runner's watches,
// timeline kept) and prints its peak RSS once the drain is ingested.
// With --plan it first makes the run's prediction beside the synced watches,
// as a run's preflight does (plan::load_snapshot + predict of a drain of
// zone-a: the server also answers the plan's lists), and only then streams
// the drain: the two peaks are printed apart.
// A benchmark: figures, no assertion.
//
// usage: bench_observe_replay [--pods 10000] [--nodes 1000] [--plan]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include "runner/common/malloc_arenas.h"
#include "runner/observe/observer.h"
#include "runner/plan/predict.h"
#include "runner/plan/snapshot.h"
#include "tests/test_paths.h"
#include "tests/unit/kube/test_server.h"

namespace {

using json = nlohmann::json;
using faultline::testing::Exchange;
using faultline::testing::TestServer;

json recorded(const std::string& name) {
  std::ifstream in(std::string(faultline::test_paths::recorded_dir()) + "/" + name);
  if (!in) throw std::runtime_error("missing recording " + name);
  return json::parse(in);
}

long rss_kib(const char* field) {  // VmRSS / VmHWM of this process
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field, 0) == 0) return std::stol(line.substr(std::string(field).size()));
  return -1;
}

struct Cluster {
  int pods = 10000, nodes = 1000;
  json pod, node, slice;
  std::string zone(int node_index) const {
    return std::string("zone-") + static_cast<char>('a' + node_index % 3);
  }
  std::string node_name(int i) const { return zone(i) + "-" + std::to_string(i / 3 + 1); }
  json make_node(int i) const {
    json n = node;
    n["metadata"]["name"] = node_name(i);
    n["metadata"]["uid"] = "node-uid-" + std::to_string(i);
    n["metadata"]["labels"]["kubernetes.io/hostname"] = node_name(i);
    n["metadata"]["labels"]["topology.kubernetes.io/zone"] = zone(i);
    return n;
  }
  json make_pod(const std::string& name, int node_index, bool ready, const std::string& rv) const {
    json p = pod;
    p["metadata"]["name"] = name;
    p["metadata"]["uid"] = "pod-uid-" + name;
    p["metadata"]["resourceVersion"] = rv;
    if (node_index >= 0)
      p["spec"]["nodeName"] = node_name(node_index);
    else
      p["spec"].erase("nodeName");
    for (auto& c : p["status"]["conditions"])
      if (c["type"] == "Ready" || c["type"] == "ContainersReady")
        c["status"] = ready ? "True" : "False";
    return p;
  }
};

std::string event(const std::string& type, const json& object) {
  return json{{"type", type}, {"object", object}}.dump() + "\n";
}

// A paginated list of `count` items made by make(i), `limit` a page (the
// client's, as the API server honours it; no limit: one page).
void list(Exchange& ex, int count, const std::function<json(int)>& make) {
  int from = ex.request.query.count("continue") ? std::stoi(ex.request.query.at("continue")) : 0;
  int limit = ex.request.query.count("limit") ? std::stoi(ex.request.query.at("limit")) : 0;
  int to = limit > 0 ? std::min(count, from + limit) : count;
  json items = json::array();
  for (int i = from; i < to; ++i) items.push_back(make(i));
  json meta = {{"resourceVersion", "100"}};
  if (to < count) meta["continue"] = std::to_string(to);
  ex.respond(
      200,
      json{{"kind", "List"}, {"apiVersion", "v1"}, {"metadata", meta}, {"items", items}}.dump());
}

// go_fd: the drain is streamed once a byte can be read from it.
void serve(const Cluster& c, int ready_fd, int go_fd) {
  std::string drained;  // the zone-a drain, as one watch stream
  int events = 0, n = 0;
  for (int i = 0; i < c.pods; ++i) {
    int node = i % c.nodes;
    if (c.zone(node) != "zone-a") continue;
    std::string name = "web-" + std::to_string(i);
    auto p = c.make_pod(name, node, true, std::to_string(200 + n));
    p["metadata"]["deletionTimestamp"] = "2026-12-01T12:00:00Z";
    drained += event("MODIFIED", p);
    drained += event("DELETED", p);
    std::string fresh = "web-r" + std::to_string(i);
    int to = node + 1 + (n % 2);  // zone-b or zone-c
    drained += event("ADDED", c.make_pod(fresh, -1, false, std::to_string(300 + n)));
    drained += event("MODIFIED", c.make_pod(fresh, to % c.nodes, false, std::to_string(301 + n)));
    drained += event("MODIFIED", c.make_pod(fresh, to % c.nodes, true, std::to_string(302 + n)));
    events += 5;
    ++n;
  }
  TestServer server([&](Exchange& ex) {
    const auto& path = ex.request.path;
    bool watch = ex.request.query.count("watch");
    if (path == "/api/v1/nodes") {
      if (watch) return ex.begin_stream(), ex.hang();
      return list(ex, c.nodes, [&](int i) { return c.make_node(i); });
    }
    if (path == "/api/v1/pods")  // the plan's snapshot: every namespace's
      return list(ex, c.pods, [&](int i) {
        return c.make_pod("web-" + std::to_string(i), i % c.nodes, true, "100");
      });
    if (path == "/api/v1/namespaces/shop/services/web")
      return ex.respond(200, json{{"metadata", {{"name", "web"}, {"namespace", "shop"}}}}.dump());
    if (path == "/apis/apps/v1/namespaces/shop/replicasets") {
      json rs = {{"metadata",
                  {{"name", "web-7d4b9c8f6d"},
                   {"namespace", "shop"},
                   {"ownerReferences",
                    {{{"kind", "Deployment"}, {"name", "web"}, {"controller", true}}}}}}};
      return list(ex, 1, [&](int) { return rs; });
    }
    if (path == "/api/v1/namespaces/shop/persistentvolumeclaims" ||
        path == "/api/v1/persistentvolumes")
      return list(ex, 0, [](int) { return json(); });
    if (path == "/api/v1/namespaces/shop/pods") {
      if (watch) {
        ex.begin_stream();
        static std::atomic<bool> once{false};
        if (!once.exchange(true)) {
          char go = 0;
          if (::read(go_fd, &go, 1) != 1) _exit(1);
          ex.chunk(drained);
        }
        return ex.hang();
      }
      return list(ex, c.pods, [&](int i) {
        return c.make_pod("web-" + std::to_string(i), i % c.nodes, true, "100");
      });
    }
    if (path == "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices") {
      if (watch) return ex.begin_stream(), ex.hang();
      int slices = (c.pods + 99) / 100;
      return list(ex, slices, [&](int s) {
        json sl = c.slice;
        sl["metadata"]["name"] = "web-" + std::to_string(s);
        sl["metadata"]["uid"] = "slice-uid-" + std::to_string(s);
        json one = c.slice["endpoints"][0];
        sl["endpoints"] = json::array();
        for (int i = s * 100; i < std::min(c.pods, s * 100 + 100); ++i) {
          json e = one;
          e["addresses"] = {"10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250)};
          e["targetRef"]["name"] = "web-" + std::to_string(i);
          e["targetRef"]["uid"] = "pod-uid-web-" + std::to_string(i);
          e["nodeName"] = c.node_name(i % c.nodes);
          e["zone"] = c.zone(i % c.nodes);
          sl["endpoints"].push_back(e);
        }
        return sl;
      });
    }
    if (path == "/apis/policy/v1/namespaces/shop/poddisruptionbudgets") {
      if (watch) return ex.begin_stream(), ex.hang();
      json pdb = {{"metadata", {{"name", "web"}, {"uid", "pdb-uid"}, {"resourceVersion", "1"}}},
                  {"spec", {{"maxUnavailable", "10%"}}},
                  {"status", {{"desiredHealthy", c.pods * 9 / 10}, {"currentHealthy", c.pods}}}};
      return list(ex, 1, [&](int) { return pdb; });
    }
    if (path == "/apis/apps/v1/namespaces/shop/replicasets/web-7d4b9c8f6d")
      return ex.respond(
          200, json{{"metadata", {{"name", "web-7d4b9c8f6d"}}}, {"spec", {{"replicas", c.pods}}}}
                   .dump());
    ex.status(404, "NotFound", "no " + path);
  });
  std::string hello = std::to_string(server.port()) + " " + std::to_string(events) + "\n";
  if (::write(ready_fd, hello.data(), hello.size()) < 0) _exit(1);
  pause();  // until the parent kills us
}

}  // namespace

int main(int argc, char** argv) {
  faultline::common::tune_malloc();  // as the runner's main does
  Cluster c;
  bool with_plan = false;
  for (int i = 1; i < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--plan") {
      with_plan = true;
      --i;
    } else if (a == "--pods")
      c.pods = std::stoi(argv[i + 1]);
    else if (a == "--nodes" && i + 1 < argc)
      c.nodes = std::stoi(argv[i + 1]);
    else {
      std::cerr << "usage: bench_observe_replay [--pods N] [--nodes M] [--plan]\n";
      return 2;
    }
  }
  c.pod = recorded("pod.json");
  c.node = recorded("node.json");
  c.slice = recorded("endpointslice.json");
  c.pod["metadata"]["ownerReferences"][0]["name"] = "web-7d4b9c8f6d";
  long base_kib = rss_kib("VmRSS:");

  int fds[2], go[2];
  if (pipe(fds) != 0 || pipe(go) != 0) return 1;
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    close(go[1]);
    serve(c, fds[1], go[0]);
    _exit(0);
  }
  close(fds[1]);
  close(go[0]);
  char buf[64] = {0};
  if (read(fds[0], buf, sizeof buf - 1) <= 0) return 1;
  int port = 0, events = 0;
  std::istringstream(buf) >> port >> events;

  using namespace faultline;
  kube::ClientConfig config;
  config.server = "http://127.0.0.1:" + std::to_string(port);
  config.qps = 0;
  kube::Client client(config);
  observe::ObserveContext ctx;
  ctx.client = &client;
  ctx.namespace_ = "shop";
  ctx.selector = "app=web";
  ctx.service = "web";
  observe::ProbeSpec pods, eps;
  pods.name = "pods";
  pods.spec = observe::PodsProbeSpec{};
  eps.name = "endpoints";
  eps.spec = observe::EndpointsProbeSpec{"web"};
  auto t0 = std::chrono::steady_clock::now();
  observe::Observer o({pods, eps}, ctx);
  o.start();
  // The preflight: the watches synced (every pod Ready in the timeline), then
  // the run's prediction beside them.
  double plan_s = -1;
  long preflight_kib = -1;
  size_t templates = 0;
  if (with_plan) {
    for (int i = 0; i < 6000; ++i) {
      auto last = o.timeline().last_pods();
      if (last && last->ready == c.pods) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    auto p0 = std::chrono::steady_clock::now();
    plan::Snapshot snapshot = plan::load_snapshot(client, "shop", "web");
    std::set<const plan::PodSpec*> specs;
    for (const auto& p : snapshot.pods) specs.insert(&p.spec());
    templates = specs.size();
    plan::Scenario scenario;
    scenario.target_ns = "shop";
    scenario.target_selector = "app=checkout";
    scenario.allowed_namespaces = {"shop"};
    scenario.faults = {plan::Fault(plan::FaultKind::Drain, "zone-a")};
    auto prediction = plan::predict(snapshot, scenario, {}, chaos::Guards{});
    plan_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - p0).count();
    preflight_kib = rss_kib("VmHWM:");
    std::printf("plan: %zu pods (%zu distinct PodSpecs), %zu displaced, predicted in %.1f s\n",
                snapshot.pods.size(), templates, prediction.outcome.displaced.size(), plan_s);
  }
  if (::write(go[1], "g", 1) != 1) return 1;  // stream the drain
  if (with_plan) t0 = std::chrono::steady_clock::now();
  int zone_a = 0;
  for (int i = 0; i < c.pods; ++i) zone_a += c.zone(i % c.nodes) == "zone-a";
  // Done when the drain is ingested: every replacement Ready, none on zone-a.
  bool done = false;
  for (int i = 0; i < 6000 && !done; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto last = o.timeline().last_pods();
    done = last && last->ready == c.pods && last->pods_by_zone["zone-a"] == 0;
  }
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto snap = o.snapshot();
  o.stop();
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  long peak = rss_kib("VmHWM:");
  double mb = static_cast<double>(peak) / 1024.0;
  std::printf("pods %d (zone-a %d drained), nodes %d, %d watch events, ingested in %.1f s%s\n",
              c.pods, zone_a, c.nodes, events, took, done ? "" : " (NOT all seen)");
  std::printf("timeline: %zu pods samples, %zu endpoints samples\n", snap.pods["pods"].size(),
              snap.endpoints["endpoints"].size());
  if (with_plan)
    std::printf("preflight peak RSS (watches synced + the prediction) %.1f MB\n",
                preflight_kib / 1024.0);
  std::printf("peak RSS %.1f MB (process before the observer: %.1f MB)\n", mb, base_kib / 1024.0);
  std::printf("%.2f MB per 1,000 pods above the start; target 64 MB: ratio %.2f\n",
              (mb - base_kib / 1024.0) * 1000.0 / c.pods, mb / 64.0);
  return done ? 0 : 1;
}
