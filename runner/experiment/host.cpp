#include "runner/experiment/host.h"

#include <curl/curl.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <thread>

#include "runner/chaos/selector.h"
#include "runner/common/error.h"
#include "runner/common/log.h"
#include "runner/experiment/options.h"
#include "runner/observe/prometheus_probe.h"
#include "runner/observe/trackers.h"

namespace faultline::experiment {

namespace res = kube::resources;
using script::HostError;
using Kind = kube::ApiError::Kind;

// Pod counts a script may ask for: far above any workload, far below where
// int arithmetic on them (by + disruptions allowed) could overflow.
constexpr int kMaxPods = 1000000;

ScriptHost::ScriptHost(kube::Client client, chaos::Chaos& chaos, observe::Observer* observer,
                       const Experiment& experiment, RunContext& run)
    : client_(std::move(client)),
      chaos_(chaos),
      observer_(observer),
      experiment_(experiment),
      run_(run) {}

template <typename F>
json ScriptHost::guarded(const std::string& what, F&& fn) {
  if (run_.stop_token().stop_requested()) throw AbortedError("run aborted: " + run_.stop_reason());
  try {
    return fn();
  } catch (const AbortedError&) {
    throw;
  } catch (const GuardError& e) {
    if (guard_refusal_.empty()) guard_refusal_ = e.what();
    throw HostError(e.what());
  } catch (const InputError& e) {
    throw HostError(e.what());
  } catch (const kube::ApiError& e) {
    // The cluster being unreachable or refusing us ends the run (exit 4);
    // anything else is the script's to handle.
    if (e.kind() == Kind::Transport || e.kind() == Kind::Timeout ||
        e.kind() == Kind::Unauthorized || e.kind() == Kind::Forbidden)
      throw;
    throw HostError(what + ": " + e.what());
  }
}

void ScriptHost::fault_started(const std::string&) {
  publish_faulted_zones();
  if (observer_ && !fault_started_) observer_->mark_fault_start(run_.now());
  fault_started_ = true;
}

// The zones that are down *now*, not every zone ever failed: a rolling
// failover restores each zone before failing the next, and the replacement
// SLO must judge placement against the zones still down (with every zone it
// ever failed excluded, no zone would be left to be Ready in).
void ScriptHost::publish_faulted_zones() {
  if (!observer_) return;
  std::vector<std::string> zones;
  for (const auto& z : chaos_.faulted_zones()) zones.push_back(z);
  observer_->set_faulted_zones(zones);
}

// ---- cluster -------------------------------------------------------------

std::vector<std::string> ScriptHost::zones() {
  return guarded("cluster.zones", [&] { return json(chaos_.view().zones()); })
      .get<std::vector<std::string>>();
}

json ScriptHost::nodes(const json& filter) {
  Options o(filter, "cluster.nodes", {"zone", "selector"});
  return guarded("cluster.nodes", [&] {
    json out = json::array();
    for (const auto& n : chaos_.view().nodes()) {
      const auto& md = n["metadata"];
      std::string zone = md.value("labels", json::object()).value(chaos::kZoneLabel, "");
      if (o.has("zone") && zone != o.str("zone")) continue;
      if (!chaos::selector_matches(o.str("selector"), md.value("labels", json::object()))) continue;
      bool ready = false;
      for (const auto& c : n.value("status", json::object()).value("conditions", json::array()))
        if (c.value("type", "") == "Ready") ready = c.value("status", "") == "True";
      json taints = json::array();
      for (const auto& t : n.value("spec", json::object()).value("taints", json::array()))
        taints.push_back(t.value("key", "") + ":" + t.value("effect", ""));
      out.push_back(
          {{"name", md.value("name", "")},
           {"zone", zone},
           {"ready", ready},
           {"unschedulable", n.value("spec", json::object()).value("unschedulable", false)},
           {"taints", taints}});
    }
    return out;
  });
}

json ScriptHost::pods(const json& filter) {
  Options o(filter, "cluster.pods", {"namespace", "selector", "zone", "node"});
  return guarded("cluster.pods", [&] {
    kube::ListOptions list;
    list.label_selector = o.str("selector", experiment_.target.selector);
    list.project = chaos::project_pod_state;
    json out = json::array();
    for (const auto& p : chaos::items(
             client_.list(res::kPods, o.str("namespace", experiment_.target.namespace_), list))) {
      std::string node = chaos::pod_node(p);
      std::string zone = node.empty() ? "" : chaos_.view().zone_of_node(node);
      if (o.has("zone") && zone != o.str("zone")) continue;
      if (o.has("node") && node != o.str("node")) continue;
      out.push_back({{"name", p["metadata"].value("name", "")},
                     {"namespace", p["metadata"].value("namespace", "")},
                     {"node", node},
                     {"zone", zone},
                     {"phase", p.value("status", json::object()).value("phase", "")},
                     {"ready", chaos::pod_ready(p)},
                     {"terminating", chaos::pod_terminating(p)}});
    }
    return out;
  });
}

json ScriptHost::workloads(const json& filter) {
  Options o(filter, "cluster.workloads", {"namespace", "selector"});
  return guarded("cluster.workloads", [&] {
    json out = json::array();
    std::string ns = o.str("namespace", experiment_.target.namespace_);
    for (const auto* r : {&res::kDeployments, &res::kStatefulSets}) {
      for (const auto& w : chaos::items(client_.list(*r, ns))) {
        json labels = w["spec"]["template"]["metadata"].value("labels", json::object());
        if (!chaos::selector_matches(o.str("selector", experiment_.target.selector), labels))
          continue;
        out.push_back({{"kind", r == &res::kDeployments ? "Deployment" : "StatefulSet"},
                       {"name", w["metadata"].value("name", "")},
                       {"namespace", ns},
                       {"replicas", w["spec"].value("replicas", 1)},
                       {"ready", w.value("status", json::object()).value("readyReplicas", 0)}});
      }
    }
    return out;
  });
}

json ScriptHost::pdbs(const json& filter) {
  Options o(filter, "cluster.pdbs", {"namespace"});
  return guarded("cluster.pdbs", [&] {
    json out = json::array();
    for (const auto& p : chaos::items(client_.list(
             res::kPodDisruptionBudgets, o.str("namespace", experiment_.target.namespace_)))) {
      json entry = {
          {"name", p["metadata"].value("name", "")},
          {"namespace", p["metadata"].value("namespace", "")},
          {"selector", chaos::selector_to_string(p["spec"].value("selector", json::object()))},
          {"disruptions_allowed",
           p.value("status", json::object()).value("disruptionsAllowed", 0)}};
      if (p["spec"].contains("minAvailable")) entry["min_available"] = p["spec"]["minAvailable"];
      if (p["spec"].contains("maxUnavailable"))
        entry["max_unavailable"] = p["spec"]["maxUnavailable"];
      out.push_back(entry);
    }
    return out;
  });
}

// ---- chaos ---------------------------------------------------------------

json ScriptHost::cordon_zone(const std::string& zone) {
  return guarded("chaos.cordon_zone", [&] {
    auto r = chaos_.cordon_zone(zone);
    fault_started(zone);
    return r;
  });
}

json ScriptHost::uncordon_zone(const std::string& zone) {
  return guarded("chaos.uncordon_zone", [&] {
    auto r = chaos_.uncordon_zone(zone);
    publish_faulted_zones();
    return r;
  });
}

json ScriptHost::cordon_node(const std::string& node) {
  return guarded("chaos.cordon_node", [&] {
    auto r = chaos_.cordon_node(node);
    fault_started("");
    return r;
  });
}

json ScriptHost::uncordon_node(const std::string& node) {
  return guarded("chaos.uncordon_node", [&] { return chaos_.uncordon_node(node); });
}

namespace {
// Declares a disruption window to the observer for as long as it lives, so the
// pdb SLO judges exactly the span of a drain or a violation, even when the
// fault throws.
class DisruptionScope {
 public:
  DisruptionScope(observe::Observer* observer, const std::string& label, bool voluntary)
      : observer_(observer), id_(observer ? observer->begin_disruption(label, voluntary) : -1) {}
  ~DisruptionScope() {
    if (observer_) observer_->end_disruption(id_);
  }
  DisruptionScope(const DisruptionScope&) = delete;
  DisruptionScope& operator=(const DisruptionScope&) = delete;

 private:
  observe::Observer* observer_;
  int id_;
};
}  // namespace

static chaos::DrainOptions drain_options(const json& options, const std::string& fn) {
  Options o(options, fn, {"timeout", "grace", "delete_emptydir_data"});
  chaos::DrainOptions d;
  if (auto t = o.seconds("timeout")) d.timeout = std::chrono::duration<double>(*t);
  if (auto g = o.integer_in("grace", 0, 86400)) d.grace_seconds = *g;
  d.delete_emptydir_data = o.boolean("delete_emptydir_data").value_or(false);
  return d;
}

json ScriptHost::drain_zone(const std::string& zone, const json& options) {
  auto d = drain_options(options, "chaos.drain_zone");
  return guarded("chaos.drain_zone", [&] {
    DisruptionScope disruption(observer_, "drain " + zone, true);
    fault_started(zone);
    auto r = chaos_.drain_zone(zone, d);
    fault_started(zone);
    return r;
  });
}

json ScriptHost::drain_node(const std::string& node, const json& options) {
  auto d = drain_options(options, "chaos.drain_node");
  return guarded("chaos.drain_node", [&] {
    DisruptionScope disruption(observer_, "drain " + node, true);
    fault_started("");
    return chaos_.drain_node(node, d);
  });
}

json ScriptHost::kill_pods(const json& options) {
  Options o(options, "chaos.kill_pods",
            {"selector", "namespace", "zone", "node", "count", "percent", "grace", "allow_all"});
  chaos::KillOptions k;
  k.ns = o.str("namespace", experiment_.target.namespace_);
  k.selector = o.str("selector", experiment_.target.selector);
  k.zone = o.str("zone");
  k.node = o.str("node");
  if (auto c = o.integer_in("count", 1, kMaxPods)) k.count = *c;
  if (auto p = o.number("percent")) {
    if (*p < 0 || *p > 100)
      throw HostError("chaos.kill_pods: option \"percent\" must be between 0 and 100");
    k.percent = *p;
  }
  if (k.count && k.percent) throw HostError("chaos.kill_pods: give count or percent, not both");
  if (auto g = o.integer_in("grace", 0, 86400)) k.grace_seconds = *g;
  k.allow_all = o.boolean("allow_all").value_or(false);
  return guarded("chaos.kill_pods", [&] {
    auto r = chaos_.kill_pods(k);
    fault_started(k.zone);
    return r;
  });
}

json ScriptHost::violate_pdb(const json& options) {
  Options o(options, "chaos.violate_pdb", {"pdb", "namespace", "by", "grace"});
  if (!o.has("pdb"))
    throw HostError(
        "chaos.violate_pdb: option \"pdb\" (the PodDisruptionBudget's name) is required");
  int by = o.integer_in("by", 1, kMaxPods).value_or(1);
  std::optional<int64_t> grace;
  if (auto g = o.integer_in("grace", 0, 86400)) grace = *g;
  return guarded("chaos.violate_pdb", [&] {
    DisruptionScope disruption(observer_, "violate_pdb " + o.str("pdb"), false);
    fault_started("");
    return chaos_.violate_pdb(o.str("namespace", experiment_.target.namespace_), o.str("pdb"), by,
                              grace);
  });
}

json ScriptHost::fail_zone(const std::string& zone, const json& options) {
  Options o(options, "chaos.fail_zone", {});
  return guarded("chaos.fail_zone", [&] {
    auto r = chaos_.fail_zone(zone);
    fault_started(zone);
    return r;
  });
}

json ScriptHost::restore_zone(const std::string& zone) {
  return guarded("chaos.restore_zone", [&] {
    auto r = chaos_.restore_zone(zone);
    publish_faulted_zones();
    return r;
  });
}

// ---- wait ----------------------------------------------------------------

int ScriptHost::desired_replicas(const std::string& ns, const std::string& selector) {
  int desired = 0;
  bool found = false;
  for (const auto* r : {&res::kDeployments, &res::kStatefulSets}) {
    for (const auto& w : chaos::items(client_.list(*r, ns))) {
      json labels = w["spec"]["template"]["metadata"].value("labels", json::object());
      if (!chaos::selector_matches(selector, labels)) continue;
      desired += w["spec"].value("replicas", 1);
      found = true;
    }
  }
  if (found) return desired;
  kube::ListOptions list;
  list.label_selector = selector;
  list.project = chaos::project_pod_state;
  client_.list_each(
      res::kPods, ns, list,
      [&](json& p) {
        desired += !chaos::pod_terminating(p);
        return true;
      },
      [&] { desired = 0; });
  return desired;
}

json ScriptHost::until_ready(const json& options) {
  Options o(options, "wait.until_ready", {"selector", "namespace", "off_zone", "count", "within"});
  const std::string ns = o.str("namespace", experiment_.target.namespace_);
  const std::string selector = o.str("selector", experiment_.target.selector);
  const std::string off_zone = o.str("off_zone");
  const double within = o.seconds("within").value_or(120);
  return guarded("wait.until_ready", [&] {
    const int desired =
        o.has("count") ? *o.integer_in("count", 0, kMaxPods) : desired_replicas(ns, selector);
    const double start = run_.now();
    run_.set_phase("inject", "until_ready " + selector +
                                 (off_zone.empty() ? "" : " off " + off_zone) + " (" +
                                 std::to_string(desired) + " pods)");
    // uid -> counted (Ready, and off off_zone): not the pods themselves (at
    // 1,500 pods the whole objects were ~37 MB, issue 14), and the count is
    // kept as events arrive instead of recounted per event.
    std::map<std::string, bool> counted;
    int ready = 0;
    bool ok = false;
    std::stop_source local;
    std::stop_callback forward(run_.stop_token(), [&] { local.request_stop(); });
    std::mutex m;
    std::condition_variable_any cv;
    std::jthread timer([&](std::stop_token st) {
      std::unique_lock lock(m);
      cv.wait_for(lock, st, std::chrono::duration<double>(within), [] { return false; });
      local.request_stop();
    });
    kube::ListOptions list;
    list.label_selector = selector;
    list.project = observe::project_pod;  // keeps what pod_ready and pod_node read
    // Watch, not poll: the moment the last replacement turns Ready is seen
    // as the event arrives.
    client_.watch(
        res::kPods, ns, list,
        [&](const kube::WatchEvent& ev) {
          std::string uid = ev.object["metadata"].value("uid", "");
          auto it = counted.find(uid);
          if (it != counted.end()) ready -= it->second ? 1 : 0;
          if (ev.type == "DELETED") {
            if (it != counted.end()) counted.erase(it);
          } else {
            const auto& p = ev.object;
            bool counts =
                chaos::pod_ready(p) &&
                (off_zone.empty() || chaos_.view().zone_of_node(chaos::pod_node(p)) != off_zone);
            counted[uid] = counts;
            ready += counts ? 1 : 0;
          }
          ok = ready >= desired;
          return !ok;
        },
        local.get_token());
    timer.request_stop();
    run_.set_phase("inject");
    if (run_.stop_token().stop_requested())
      throw AbortedError("run aborted: " + run_.stop_reason());
    json r = {{"ok", ok}, {"elapsed", run_.now() - start}, {"ready", ready}, {"desired", desired}};
    if (!ok)
      r["error"] = "only " + std::to_string(ready) + " of " + std::to_string(desired) +
                   " pods Ready within " + format_duration(Seconds(within));
    return r;
  });
}

void ScriptHost::sleep(double seconds) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  auto st = run_.stop_token();
  cv.wait_for(lock, st, std::chrono::duration<double>(seconds), [] { return false; });
  if (st.stop_requested()) throw AbortedError("run aborted: " + run_.stop_reason());
}

// ---- probe ---------------------------------------------------------------

namespace {
// The body is not kept: a probe answers ok/status/latency only.
size_t discard(char*, size_t size, size_t n, void*) { return size * n; }

// Ends the transfer once the run is stopped (curl checks about once a second
// and on every chunk).
int stop_transfer(void* stop, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::stop_token*>(stop)->stop_requested() ? 1 : 0;
}
}  // namespace

json ScriptHost::probe_http(const json& options) {
  Options o(options, "probe.http", {"url", "timeout", "expect_status"});
  std::string url = o.str("url");
  if (url.empty()) throw HostError("probe.http: option \"url\" is required");
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    throw HostError("probe.http: option \"url\" must be an http:// or https:// URL (got \"" +
                    url.substr(0, 64) + "\")");
  // 0 would mean "no timeout" to curl: clamp to [100ms, 60s].
  double timeout = std::clamp(o.seconds("timeout").value_or(2), 0.1, 60.0);
  long expect = o.integer("expect_status").value_or(0);
  std::stop_token stop = run_.stop_token();
  CURL* curl = curl_easy_init();
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout * 1000));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, stop_transfer);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &stop);
  auto start = std::chrono::steady_clock::now();
  CURLcode rc = curl_easy_perform(curl);
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(curl);
  if (stop.stop_requested()) throw AbortedError("run aborted: " + run_.stop_reason());
  if (rc != CURLE_OK)
    return {{"ok", false}, {"status", 0}, {"latency_ms", ms}, {"error", curl_easy_strerror(rc)}};
  bool ok = expect ? status == expect : (status >= 200 && status < 400);
  json r = {{"ok", ok}, {"status", status}, {"latency_ms", ms}};
  if (!ok) r["error"] = "HTTP " + std::to_string(status);
  return r;
}

json ScriptHost::probe_query(const json& options) {
  Options o(options, "probe.query", {"url", "query"});
  observe::PrometheusProbeSpec spec;
  spec.url = o.str("url");
  spec.query = o.str("query");
  if (spec.url.empty() || spec.query.empty())
    throw HostError("probe.query: options \"url\" and \"query\" are required");
  auto sample = observe::prometheus_query(spec, run_.t0());
  json r = {{"ok", sample.ok}, {"value", sample.value}};
  if (!sample.ok) r["error"] = sample.error;
  return r;
}

// ---- log -----------------------------------------------------------------

void ScriptHost::log(const std::string& level, const std::string& message,
                     const std::string& where) {
  std::string line = RunContext::bounded_line(where + " " + message);
  char t[32];
  std::snprintf(t, sizeof t, "%.1fs", run_.now());
  run_.add_log(std::string(t) + " " + level + " " + line);
  if (level == "debug")
    log::debug("script: " + line);
  else if (level == "warn")
    log::warn("script: " + line);
  else if (level == "error")
    log::error("script: " + line);
  else
    log::info("script: " + line);
}

void ScriptHost::mark(const std::string& label) { run_.add_marker("phase", label); }

// ---- dr: restore drills (runner/dr) ----

dr::Drill& ScriptHost::drill(const char* function) {
  if (drill_ == nullptr) {
    throw HostError(std::string(function) + ": this experiment has no restore drill (spec.dr)");
  }
  return *drill_;
}

json ScriptHost::dr_backup(const json& options) {
  auto& d = drill("dr.backup");
  return guarded("dr.backup", [&] { return d.backup(options, run_.stop_token()); });
}

json ScriptHost::dr_latest_backup(const json& options) {
  auto& d = drill("dr.latest_backup");
  return guarded("dr.latest_backup", [&] { return d.latest_backup(options); });
}

json ScriptHost::dr_disaster(const json& options) {
  auto& d = drill("dr.disaster");
  return guarded("dr.disaster", [&] {
    json out = d.disaster(options);
    run_.add_marker("fault", "disaster");
    return out;
  });
}

json ScriptHost::dr_restore(const json& options) {
  auto& d = drill("dr.restore");
  return guarded("dr.restore", [&] { return d.restore(options, run_.stop_token()); });
}

json ScriptHost::dr_recovered(const json& options) {
  auto& d = drill("dr.recovered");
  if (!options.empty()) throw HostError("dr.recovered: takes no options");
  return guarded("dr.recovered", [&] { return d.recovered(); });
}

}  // namespace faultline::experiment
