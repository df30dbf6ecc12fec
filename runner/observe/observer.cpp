#include "runner/observe/observer.h"

#include <atomic>
#include <cmath>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <stdexcept>

#include "runner/common/log.h"
#include "runner/kube/resource.h"
#include "runner/observe/prometheus_probe.h"
#include "runner/observe/request_engine.h"
#include "runner/observe/service_host.h"
#include "runner/observe/trackers.h"

namespace faultline::observe {

using json = nlohmann::json;

struct Observer::Runner {
  virtual ~Runner() = default;
  virtual void start() = 0;
  virtual void stop() = 0;
  virtual void on_fault_start() {}
  virtual void on_faulted_zones(const std::vector<std::string>&) {}
};

namespace {

// Sleeps unless stop is requested first; returns false when stopped.
bool sleep_for(std::stop_token stop, std::chrono::milliseconds d) {
  std::mutex mu;
  std::condition_variable_any cv;
  std::unique_lock lock(mu);
  return !cv.wait_for(lock, stop, d, [] { return false; }) && !stop.stop_requested();
}

// client: resolves a URL naming a Service (service_host.h); may be null.
RequestTarget target_of(const ProbeSpec& p, kube::Client* client) {
  RequestTarget t;
  if (auto* h = std::get_if<HttpProbeSpec>(&p.spec)) {
    t.url = h->url;
    t.method = h->method;
    t.timeout = std::chrono::milliseconds(std::llround(h->timeout.count() * 1000));
    t.expect_status = h->expect_status;
    t.body_contains = h->body_contains;
    t.keepalive = h->keepalive;
    t.insecure_skip_tls_verify = h->insecure_skip_tls_verify;
    if (auto svc = service_host(h->url); svc && client)
      t.resolve.push_back(resolve_entry(*client, *svc));
  } else {
    const auto& tcp = std::get<TcpProbeSpec>(p.spec);
    t.url = "http://" + tcp.address + "/";  // libcurl only connects (CONNECT_ONLY)
    t.connect_only = true;
    t.timeout = std::chrono::milliseconds(std::llround(tcp.timeout.count() * 1000));
  }
  if (t.timeout.count() < 1) t.timeout = std::chrono::milliseconds(1);
  return t;
}

class RequestRunner : public Observer::Runner {
 public:
  RequestRunner(const ProbeSpec& p, kube::Client* client, Timeline& timeline, Clock::time_point t0)
      : engine_(target_of(p, client),
                p.kind() == ProbeKind::Http ? std::get<HttpProbeSpec>(p.spec).rate
                                            : std::get<TcpProbeSpec>(p.spec).rate,
                t0,
                [&timeline, name = p.name](RequestSample s) { timeline.add(name, std::move(s)); }),
        name_(p.name),
        timeline_(timeline),
        t0_(t0) {}
  void start() override { engine_.start(); }
  void stop() override {
    engine_.stop();
    if (auto e = engine_.error())
      timeline_.add(ProbeFailure{seconds_between(t0_, Clock::now()), name_, *e});
  }

 private:
  RequestEngine engine_;
  std::string name_;
  Timeline& timeline_;
  Clock::time_point t0_;
};

class PrometheusRunner : public Observer::Runner {
 public:
  PrometheusRunner(const ProbeSpec& p, Timeline& timeline, Clock::time_point t0)
      : poller_(std::get<PrometheusProbeSpec>(p.spec), t0,
                [&timeline, name = p.name](ValueSample s) { timeline.add(name, std::move(s)); }) {}
  void start() override { poller_.start(); }
  void stop() override { poller_.stop(); }

 private:
  PrometheusPoller poller_;
};

// Runs one watch until stopped. kube::Client::watch already relists on 410
// and cut streams; what it throws is recorded. Retryable errors (API server
// unreachable for longer than the client's retries) resync the tracker
// from a fresh list and watch again; the others end this watch.
class WatchLoop {
 public:
  using OnEvent = std::function<void(const kube::WatchEvent&, double)>;
  using Resync = std::function<void(const json& list, double)>;

  WatchLoop(kube::Client& client, Timeline& timeline, Clock::time_point t0, std::string probe)
      : client_(client), timeline_(timeline), t0_(t0), probe_(std::move(probe)) {}

  void run(const kube::Resource& r, const std::string& ns, const kube::ListOptions& options,
           const OnEvent& on_event, const Resync& resync, std::stop_token stop) {
    auto backoff = std::chrono::milliseconds(1000);
    bool first = true;
    while (!stop.stop_requested()) {
      try {
        if (!first && resync) resync(client_.list(r, ns, options), now());
        first = false;
        client_.watch(
            r, ns, options,
            [&](const kube::WatchEvent& e) {
              on_event(e, now());
              return !stop.stop_requested();
            },
            stop);
        backoff = std::chrono::milliseconds(1000);
      } catch (const kube::ApiError& e) {
        fail(r.display() + " watch: " + e.what());
        if (!e.retryable()) return;
        first = false;
      } catch (const std::exception& e) {
        fail(r.display() + " watch: " + e.what());
        return;
      }
      if (!sleep_for(stop, backoff)) return;
      backoff = std::min(backoff * 2, std::chrono::milliseconds(10000));
    }
  }

  double now() const { return seconds_between(t0_, Clock::now()); }

  void fail(const std::string& message) {
    log::warn("probe " + probe_ + ": " + message);
    timeline_.add(ProbeFailure{now(), probe_, message});
  }

 private:
  kube::Client& client_;
  Timeline& timeline_;
  Clock::time_point t0_;
  std::string probe_;
};

// Names of the items of a list, and synthetic events that bring a tracker
// from what it knew to what the list says (from_list, then SYNCED, as a
// watch's relist delivers them).
std::vector<kube::WatchEvent> resync_events(const json& list, const std::set<std::string>& known) {
  std::vector<kube::WatchEvent> events;
  std::set<std::string> present;
  if (list.contains("items") && list["items"].is_array()) {
    for (const auto& item : list["items"]) {
      present.insert(item.value("/metadata/name"_json_pointer, ""));
      events.push_back({"MODIFIED", item, true});
    }
  }
  for (const auto& name : known)
    if (!present.count(name))
      events.push_back({"DELETED", json{{"metadata", {{"name", name}}}}, true});
  events.push_back({"SYNCED", json(), true});
  return events;
}

class EndpointsRunner : public Observer::Runner {
 public:
  EndpointsRunner(const ProbeSpec& p, const ObserveContext& ctx, Timeline& timeline)
      : loop_(*ctx.client, timeline, ctx.t0, p.name), timeline_(timeline), name_(p.name) {
    ns_ = ctx.namespace_;
    const auto& spec = std::get<EndpointsProbeSpec>(p.spec);
    service_ = spec.service.empty() ? ctx.service : spec.service;
    if (service_.empty())
      throw std::invalid_argument("endpoints probe \"" + p.name +
                                  "\": no service (set endpoints.service or target.service)");
  }
  void start() override {
    thread_ = std::jthread([this](std::stop_token stop) {
      kube::ListOptions opts;
      opts.label_selector = "kubernetes.io/service-name=" + service_;
      opts.send_synced = true;
      loop_.run(
          kube::resources::kEndpointSlices, ns_, opts,
          [this](const kube::WatchEvent& e, double t) { on_event(e, t); },
          [this](const json& list, double t) {
            for (const auto& e : resync_events(list, known_)) on_event(e, t);
          },
          stop);
    });
  }
  void stop() override {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
  }

 private:
  // As for pods: the slices of a list are one state (a Service's endpoints
  // are spread over several), sampled once at the SYNCED after them.
  void on_event(const kube::WatchEvent& e, double t) {
    if (e.type == "SYNCED") {
      timeline_.add(name_, tracker_.current(t));
      return;
    }
    auto name = e.object.value("/metadata/name"_json_pointer, "");
    if (e.type == "DELETED")
      known_.erase(name);
    else
      known_.insert(name);
    auto sample = tracker_.apply(e, t);
    if (!e.from_list) timeline_.add(name_, std::move(sample));
  }

  WatchLoop loop_;
  Timeline& timeline_;
  std::string name_, ns_, service_;
  EndpointsTracker tracker_;
  std::set<std::string> known_;
  std::jthread thread_;
};

// spec.replicas of the workloads that own the pods (ReplicaSet -> its
// Deployment, StatefulSet). nullopt when an owner is of another kind or
// cannot be read.
std::optional<int> resolve_desired(kube::Client& client, const std::string& ns,
                                   const std::set<std::pair<std::string, std::string>>& owners,
                                   std::string* why) {
  namespace res = kube::resources;
  auto replicas = [](const json& obj) {
    return obj.value("/spec/replicas"_json_pointer, 1);  // the API server's default
  };
  std::set<std::pair<std::string, std::string>> top;
  int total = 0;
  for (const auto& [kind, name] : owners) {
    if (kind == "ReplicaSet") {
      json rs = client.get(res::kReplicaSets, ns, name);
      std::pair<std::string, std::string> owner;
      for (const auto& r : rs.value("/metadata/ownerReferences"_json_pointer, json::array()))
        if (r.value("controller", false)) owner = {r.value("kind", ""), r.value("name", "")};
      if (owner.first == "Deployment") {
        if (top.insert(owner).second)
          total += replicas(client.get(res::kDeployments, ns, owner.second));
      } else if (top.insert({kind, name}).second) {
        total += replicas(rs);
      }
    } else if (kind == "StatefulSet") {
      if (top.insert({kind, name}).second)
        total += replicas(client.get(res::kStatefulSets, ns, name));
    } else {
      *why = "pods are owned by a " + kind + ", which has no replica count";
      return std::nullopt;
    }
  }
  if (top.empty()) {
    *why = "pods have no owning workload";
    return std::nullopt;
  }
  return total;
}

class PodsRunner : public Observer::Runner {
 public:
  PodsRunner(const ProbeSpec& p, const ObserveContext& ctx, Timeline& timeline)
      : client_(*ctx.client),
        pods_loop_(*ctx.client, timeline, ctx.t0, p.name),
        nodes_loop_(*ctx.client, timeline, ctx.t0, p.name),
        pdbs_loop_(*ctx.client, timeline, ctx.t0, p.name),
        timeline_(timeline),
        name_(p.name),
        ns_(ctx.namespace_) {
    const auto& spec = std::get<PodsProbeSpec>(p.spec);
    selector_ = spec.selector.empty() ? ctx.selector : spec.selector;
    if (selector_.empty())
      throw std::invalid_argument("pods probe \"" + p.name +
                                  "\": no selector (set pods.selector or target.selector)");
  }

  void start() override {
    nodes_thread_ = std::jthread([this](std::stop_token stop) {
      kube::ListOptions opts;
      opts.project = project_node;
      nodes_loop_.run(
          kube::resources::kNodes, "", opts,
          [this](const kube::WatchEvent& e, double t) {
            // Before the pods are synced a sample would count none of them.
            if (auto s = tracker_.apply_node(e, t); s && synced_)
              timeline_.add(name_, std::move(*s));
          },
          nullptr, stop);
    });
    pods_thread_ = std::jthread([this](std::stop_token stop) {
      // Zones first, so the first pod samples already know theirs.
      try {
        kube::ListOptions nodes_opts;
        nodes_opts.project = project_node;
        json nodes = client_.list(kube::resources::kNodes, "", nodes_opts);
        double t = pods_loop_.now();
        for (const auto& n : nodes.value("items", json::array()))
          tracker_.apply_node({"ADDED", n}, t);
      } catch (const std::exception& e) {
        pods_loop_.fail(std::string("listing nodes: ") + e.what());
      }
      kube::ListOptions opts;
      opts.label_selector = selector_;
      opts.send_synced = true;
      opts.project = project_pod;
      pods_loop_.run(
          kube::resources::kPods, ns_, opts,
          [this](const kube::WatchEvent& e, double t) { on_pod(e, t); },
          [this](const json& list, double t) {
            for (const auto& e : resync_events(list, known_)) on_pod(e, t);
          },
          stop);
    });
    pdbs_thread_ = std::jthread([this](std::stop_token stop) {
      pdbs_loop_.run(
          kube::resources::kPodDisruptionBudgets, ns_, {},
          [this](const kube::WatchEvent& e, double t) {
            if (auto s = pdb_sample(e, t)) timeline_.add(std::move(*s));
          },
          nullptr, stop);
    });
  }

  void stop() override {
    for (auto* t : {&pods_thread_, &nodes_thread_, &pdbs_thread_}) t->request_stop();
    for (auto* t : {&pods_thread_, &nodes_thread_, &pdbs_thread_})
      if (t->joinable()) t->join();
  }

  void on_faulted_zones(const std::vector<std::string>& zones) override {
    tracker_.set_faulted_zones(zones);
    if (synced_) timeline_.add(name_, tracker_.current(pods_loop_.now()));
  }

  void on_fault_start() override {
    tracker_.freeze_desired_fallback();
    if (synced_) timeline_.add(name_, tracker_.current(pods_loop_.now()));
  }

 private:
  // The timeline gets a sample only of a synced view: the items of a list
  // (1,800 pods arrive one by one) are applied silently and one sample is
  // taken at the SYNCED after them. A sample per item would record the
  // half-ingested list as Ready pods falling short of the PDB's floor.
  void on_pod(const kube::WatchEvent& e, double t) {
    if (e.type == "SYNCED") {
      synced_ = true;
      timeline_.add(name_, tracker_.current(t));
      return;
    }
    auto name = e.object.value("/metadata/name"_json_pointer, "");
    if (e.type == "DELETED")
      known_.erase(name);
    else
      known_.insert(name);
    const bool quiet = e.from_list;
    auto u = tracker_.apply_pod(e, t, !quiet);
    if (u.new_owner) {
      // A new controller (first list, or a new ReplicaSet): re-read desired.
      std::string why;
      try {
        if (auto d = resolve_desired(client_, ns_, tracker_.owners(), &why)) {
          tracker_.set_desired(*d);
          if (!quiet) u.sample = tracker_.current(t);
        }
      } catch (const std::exception& ex) {
        why = ex.what();
      }
      if (!why.empty() && !tracker_.desired_known())
        pods_loop_.fail("desired replicas unresolved (" + why +
                        "); using the Ready pods at fault start");
    }
    // Pods Ready before the first list are not transitions of this run.
    if (u.became_ready && synced_) timeline_.add(std::move(*u.became_ready));
    if (!quiet) timeline_.add(name_, std::move(u.sample));
  }

  kube::Client& client_;
  WatchLoop pods_loop_, nodes_loop_, pdbs_loop_;
  Timeline& timeline_;
  std::string name_, ns_, selector_;
  PodsTracker tracker_;
  std::set<std::string> known_;
  std::atomic<bool> synced_{false};  // the first list was ingested whole
  std::jthread pods_thread_, nodes_thread_, pdbs_thread_;
};

}  // namespace

Observer::Observer(std::vector<ProbeSpec> probes, ObserveContext context)
    : probes_(std::move(probes)), context_(std::move(context)) {
  for (const auto& p : probes_) {
    switch (p.kind()) {
      case ProbeKind::Http:
      case ProbeKind::Tcp:
        // Probed from vantage pods, not from here: their series
        // ("<probe>@<zone>", vantage.h) are the vantage followers' to fill.
        if (auto* h = std::get_if<HttpProbeSpec>(&p.spec); h && h->from) break;
        timeline_.declare(p.name, SeriesKind::Requests);
        runners_.push_back(
            std::make_unique<RequestRunner>(p, context_.client, timeline_, context_.t0));
        break;
      case ProbeKind::Prometheus:
        timeline_.declare(p.name, SeriesKind::Values);
        runners_.push_back(std::make_unique<PrometheusRunner>(p, timeline_, context_.t0));
        break;
      case ProbeKind::Endpoints:
      case ProbeKind::Pods:
        if (!context_.client)
          throw std::invalid_argument(std::string(to_string(p.kind())) + " probe \"" + p.name +
                                      "\" needs a Kubernetes client");
        if (p.kind() == ProbeKind::Endpoints) {
          timeline_.declare(p.name, SeriesKind::Endpoints);
          runners_.push_back(std::make_unique<EndpointsRunner>(p, context_, timeline_));
        } else {
          timeline_.declare(p.name, SeriesKind::Pods);
          runners_.push_back(std::make_unique<PodsRunner>(p, context_, timeline_));
        }
        break;
    }
  }
}

Observer::~Observer() { stop(); }

void Observer::start() {
  if (started_) return;
  started_ = true;
  for (auto& r : runners_) r->start();
}

void Observer::stop() {
  if (!started_ || stopped_) return;
  stopped_ = true;
  for (auto& r : runners_) r->stop();
}

double Observer::now() const { return seconds_between(context_.t0, Clock::now()); }

TimelineSnapshot Observer::snapshot(double since) const { return timeline_.snapshot(since, now()); }

void Observer::set_faulted_zones(std::vector<std::string> zones) {
  timeline_.set_faulted_zones(zones);
  for (auto& r : runners_) r->on_faulted_zones(zones);
}

void Observer::mark_fault_start(std::optional<double> t) {
  timeline_.mark_fault_start(t ? *t : now());
  for (auto& r : runners_) r->on_fault_start();
}

void Observer::mark_fault_end(std::optional<double> t) { timeline_.mark_fault_end(t ? *t : now()); }

int Observer::begin_disruption(const std::string& label, bool voluntary) {
  return timeline_.begin_disruption(label, voluntary, now());
}

void Observer::end_disruption(int id) { timeline_.end_disruption(id, now()); }

void Observer::add_eviction(const std::string& ns, const std::string& name, const std::string& node,
                            double t) {
  timeline_.add(EvictionEvent{t, ns + "/" + name, node, timeline_.voluntary_disruption_at(t)});
}

LiveStatus Observer::live(double window_seconds) const {
  LiveStatus s;
  s.t = now();
  for (const auto& name : timeline_.request_probes()) {
    auto r = timeline_.request_ratio(name, s.t - window_seconds, s.t);
    s.availability.push_back({name, r.ok, r.total});
  }
  if (auto p = timeline_.last_pods()) {
    s.ready_pods = p->ready;
    s.desired_pods = p->desired;
    s.pods_on_faulted_zones = p->on_faulted_zones;
  }
  if (auto e = timeline_.last_endpoints()) s.ready_endpoints = e->ready_total;
  return s;
}

std::vector<ProbeFailure> Observer::failures() const { return timeline_.failures(); }

}  // namespace faultline::observe
