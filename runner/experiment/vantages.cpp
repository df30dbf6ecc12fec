#include "runner/experiment/vantages.h"

#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>

#include "runner/chaos/cluster_view.h"
#include "runner/common/error.h"
#include "runner/common/log.h"

namespace faultline::experiment {

namespace res = kube::resources;
using json = nlohmann::json;

namespace {

// A DNS label from free text: lower case, [a-z0-9-], at most `max` long.
std::string dns_label(const std::string& text, size_t max) {
  std::string out;
  for (char c : text) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    bool ok = (l >= 'a' && l <= 'z') || (l >= '0' && l <= '9');
    if (ok)
      out += l;
    else if (!out.empty() && out.back() != '-')
      out += '-';
  }
  if (out.size() > max) out.resize(max);
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

std::set<std::string> node_zones(const json& nodes, std::map<std::string, std::string>* by_node) {
  std::set<std::string> zones;
  for (const auto& n : nodes) {
    std::string zone =
        n["metadata"].value("labels", json::object()).value(chaos::kZoneLabel, std::string());
    if (zone.empty()) continue;
    zones.insert(zone);
    if (by_node) (*by_node)[n["metadata"].value("name", "")] = zone;
  }
  return zones;
}

std::string joined(const std::set<std::string>& s) {
  std::string out;
  for (const auto& z : s) out += (out.empty() ? "" : ", ") + z;
  return out.empty() ? "none" : out;
}

// Why a pending pod will not run, or "" while it may still.
std::string stuck_reason(const json& pod) {
  const json status = pod.value("status", json::object());
  for (const auto& c : status.value("conditions", json::array()))
    if (c.value("type", "") == "PodScheduled" && c.value("status", "") == "False" &&
        c.value("reason", "") == "Unschedulable")
      return "unschedulable: " + c.value("message", std::string());
  for (const auto& cs : status.value("containerStatuses", json::array())) {
    const json waiting = cs.value("state", json::object()).value("waiting", json::object());
    std::string reason = waiting.value("reason", "");
    if (reason == "ErrImagePull" || reason == "ImagePullBackOff" || reason == "ErrImageNeverPull" ||
        reason == "InvalidImageName" || reason == "CreateContainerConfigError" ||
        reason == "CreateContainerError")
      return reason + ": " + waiting.value("message", std::string());
  }
  return "";
}

}  // namespace

std::string default_probe_image() {
  if (const char* env = std::getenv("FAULTLINE_PROBE_IMAGE"); env && *env) return env;
  return std::string("faultline:") + FAULTLINE_VERSION;
}

std::vector<VantagePlan> plan_vantages(kube::Client& client, const Experiment& e,
                                       const std::string& run_id,
                                       const std::string& state_namespace) {
  std::vector<VantagePlan> plans;
  bool any = false;
  for (const auto& p : e.probes)
    if (auto* h = std::get_if<observe::HttpProbeSpec>(&p.spec); h && h->from) any = true;
  if (!any) return plans;
  std::map<std::string, std::string> zone_of_node;
  kube::ListOptions nodes;
  nodes.project = chaos::project_node_facts;
  std::set<std::string> present =
      node_zones(chaos::items(client.list(res::kNodes, "", nodes)), &zone_of_node);
  std::set<std::string> target_zones;
  kube::ListOptions o;
  o.label_selector = e.target.selector;
  o.project = chaos::project_pod_state;
  for (const auto& pod : chaos::items(client.list(res::kPods, e.target.namespace_, o))) {
    auto node = pod.value("spec", json::object()).value("nodeName", std::string());
    if (auto it = zone_of_node.find(node); it != zone_of_node.end() && !chaos::pod_terminating(pod))
      target_zones.insert(it->second);
  }
  std::string suffix = run_id.size() > 5 ? run_id.substr(run_id.size() - 5) : run_id;
  for (const auto& p : e.probes) {
    auto* h = std::get_if<observe::HttpProbeSpec>(&p.spec);
    if (!h || !h->from) continue;
    const auto& v = *h->from;
    std::vector<std::string> zones;
    if (v.every_zone) {
      if (target_zones.empty())
        v.from_where.fail("http probe from: every-zone: the target's pods run on no node with a " +
                          std::string(chaos::kZoneLabel) + " label");
      zones.assign(target_zones.begin(), target_zones.end());
    } else {
      for (size_t i = 0; i < v.zones.size(); ++i)
        if (!present.count(v.zones[i]))
          v.where[i].fail("http probe from: zone \"" + v.zones[i] +
                          "\" has no nodes in this cluster (zones: " + joined(present) + ")");
      zones = v.zones;
    }
    for (const auto& zone : zones) {
      VantagePlan plan;
      plan.series = observe::vantage_series(p.name, zone);
      auto& pod = plan.pod;
      pod.name = "faultline-vantage-" + dns_label(p.name + "-" + zone, 38) + "-" + suffix;
      pod.namespace_ = state_namespace;
      pod.run_id = run_id;
      pod.probe = p.name;
      pod.zone = zone;
      pod.image = v.image.empty() ? default_probe_image() : v.image;
      pod.url = h->url;
      pod.rate = h->rate;
      pod.timeout_s = h->timeout.count();
      pod.keepalive = h->keepalive;
      pod.node_selector = v.node_selector;
      pod.tolerations = v.tolerations;
      plans.push_back(std::move(plan));
    }
  }
  return plans;
}

void expand_vantage_slos(std::vector<slo::SloSpec>& slos, const std::vector<VantagePlan>& plans) {
  std::vector<slo::SloSpec> out;
  for (const auto& s : slos) {
    bool expanded = false;
    if (s.kind == slo::SloKind::Availability || s.kind == slo::SloKind::Latency)
      for (const auto& plan : plans)
        if (plan.pod.probe == s.probe) {
          slo::SloSpec copy = s;
          copy.probe = plan.series;
          out.push_back(std::move(copy));
          expanded = true;
        }
    if (!expanded) out.push_back(s);
  }
  slos = std::move(out);
}

VantageFleet::VantageFleet(kube::Client& client, chaos::Journal& journal,
                           std::vector<VantagePlan> plans, observe::Timeline& timeline,
                           observe::Clock::time_point t0, std::function<double()> clock)
    : client_(client),
      journal_(journal),
      plans_(std::move(plans)),
      timeline_(timeline),
      t0_(t0),
      clock_(std::move(clock)) {}

void VantageFleet::start(std::stop_token stop, std::chrono::seconds within) {
  auto until = std::chrono::steady_clock::now() + within;
  for (const auto& plan : plans_) {
    auto in_flight = journal_.mutating();
    chaos::JournalEntry entry;
    entry.action = "create";
    entry.kind = "pod";
    entry.ns = plan.pod.namespace_;
    entry.name = plan.pod.name;
    int id = journal_.intend({entry}).front();  // persisted before the pod exists
    try {
      json created =
          client_.create(res::kPods, plan.pod.namespace_, observe::vantage_pod(plan.pod));
      journal_.update(id, "applied", "", clock_());
    } catch (...) {
      journal_.update(id, "failed", "create failed", clock_());
      journal_.persist();
      throw;
    }
    journal_.persist();
    log::info("vantage pod " + plan.pod.namespace_ + "/" + plan.pod.name + " created (probe " +
              plan.pod.probe + " from " + plan.pod.zone + ")");
  }
  wait_running(stop, until);
  for (const auto& plan : plans_) {
    followers_.push_back(std::make_unique<observe::VantageFollower>(
        client_, plan.pod.namespace_, plan.pod.name, plan.series, timeline_, plan.pod.rate,
        plan.pod.timeout_s, t0_));
    followers_.back()->start();
  }
  // Every vantage must report before the steady state is judged on it.
  for (size_t i = 0; i < followers_.size(); ++i) {
    while (!followers_[i]->reporting()) {
      if (stop.stop_requested()) return;
      if (std::chrono::steady_clock::now() > until) {
        std::string why = followers_[i]->last_error();
        throw VantageError("vantage pod " + plans_[i].pod.name + " (probe " + plans_[i].pod.probe +
                           " from " + plans_[i].pod.zone + ") reported no sample within " +
                           std::to_string(std::chrono::seconds(within).count()) + "s" +
                           (why.empty() ? "" : ": " + why));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
}

void VantageFleet::wait_running(std::stop_token stop, std::chrono::steady_clock::time_point until) {
  nodes_.assign(plans_.size(), "");
  std::vector<bool> running(plans_.size(), false);
  size_t left = plans_.size();
  while (left > 0) {
    if (stop.stop_requested()) return;
    for (size_t i = 0; i < plans_.size(); ++i) {
      if (running[i]) continue;
      const auto& p = plans_[i].pod;
      json pod = client_.get(res::kPods, p.namespace_, p.name);
      std::string phase = pod.value("status", json::object()).value("phase", "");
      nodes_[i] = pod.value("spec", json::object()).value("nodeName", std::string());
      std::string why = stuck_reason(pod);
      if (phase == "Failed" || phase == "Succeeded") why = "it ended (phase " + phase + ")";
      if (!why.empty())
        throw VantageError("vantage pod " + p.name + " (probe " + p.probe + " from " + p.zone +
                           ", image " + p.image + ") cannot start: " + why);
      if (phase == "Running") running[i] = true, --left;
    }
    if (left == 0) break;
    if (std::chrono::steady_clock::now() > until) {
      for (size_t i = 0; i < plans_.size(); ++i)
        if (!running[i])
          throw VantageError("vantage pod " + plans_[i].pod.name + " (probe " +
                             plans_[i].pod.probe + " from " + plans_[i].pod.zone +
                             ") is not running in time" +
                             (nodes_[i].empty() ? " (not scheduled)" : " on " + nodes_[i]));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

void VantageFleet::finish(double end) {
  for (auto& f : followers_) f->finish(end);
}

std::vector<std::string> VantageFleet::summaries() const {
  std::vector<std::string> out;
  for (size_t i = 0; i < followers_.size(); ++i)
    out.push_back("vantage " + followers_[i]->series() + ": pod " + followers_[i]->pod() +
                  (i < nodes_.size() && !nodes_[i].empty() ? " on " + nodes_[i] : "") + ": " +
                  followers_[i]->summary());
  return out;
}

}  // namespace faultline::experiment
