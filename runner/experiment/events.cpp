#include "runner/experiment/events.h"

#include <algorithm>
#include <chrono>

#include "runner/chaos/cluster_view.h"
#include "runner/chaos/lock.h"
#include "runner/chaos/selector.h"
#include "runner/common/log.h"

namespace faultline::experiment {

namespace res = kube::resources;
using json = nlohmann::json;

EventRecorder::EventRecorder(kube::Client client, std::string ns, std::string selector)
    : client_(std::move(client)), ns_(std::move(ns)), selector_(std::move(selector)) {}

void EventRecorder::find_target() {
  looked_up_ = true;
  try {
    for (const auto& d : chaos::items(client_.list(res::kDeployments, ns_))) {
      json labels = d["spec"]["template"]["metadata"].value("labels", json::object());
      if (!chaos::selector_matches(selector_, labels)) continue;
      target_ = {{"apiVersion", "apps/v1"},
                 {"kind", "Deployment"},
                 {"namespace", ns_},
                 {"name", d["metadata"]["name"]},
                 {"uid", d["metadata"]["uid"]}};
      return;
    }
  } catch (const std::exception& e) {
    log::warn(std::string("events: cannot find the target workload: ") + e.what());
  }
}

void EventRecorder::emit(const std::string& reason, const std::string& message, bool warning) {
  if (!looked_up_) find_target();
  if (target_.is_null()) return;
  std::string now = chaos::micro_time_now();
  std::string seconds = now.substr(0, 19) + "Z";
  json event = {
      {"apiVersion", "v1"},
      {"kind", "Event"},
      {"metadata",
       {{"generateName", target_["name"].get<std::string>() + ".faultline-"}, {"namespace", ns_}}},
      {"involvedObject", target_},
      {"reason", reason},
      {"message", message},
      {"type", warning ? "Warning" : "Normal"},
      {"source", {{"component", "faultline"}}},
      {"reportingComponent", "faultline"},
      {"reportingInstance", "faultline"},
      {"firstTimestamp", seconds},
      {"lastTimestamp", seconds},
      {"count", 1}};
  try {
    client_.create(res::kEvents, ns_, event);
  } catch (const std::exception& e) {
    log::warn(std::string("events: could not record ") + reason + ": " + e.what());
  }
}

namespace {
constexpr size_t kMaxEvents = 500;  // the report's share: the run's first 500

std::string str(const json& j, const char* k) {
  return j.is_object() && j.contains(k) && j[k].is_string() ? j[k].get<std::string>()
                                                            : std::string();
}

// What the report reads of an event, in place as each page is decoded: a
// drain of thousands of pods leaves tens of thousands of events in the
// namespace, ~1 KB of JSON each (issue 14: none is held whole).
void project_event(json& ev) {
  if (!ev.is_object()) return;
  std::string when = str(ev, "lastTimestamp");
  if (when.empty()) when = str(ev, "eventTime");
  if (when.empty() && ev.contains("metadata")) when = str(ev["metadata"], "creationTimestamp");
  const json obj = ev.value("involvedObject", json::object());
  ev = {{"when", when},
        {"type", str(ev, "type")},
        {"reason", str(ev, "reason")},
        {"object", str(obj, "kind") + "/" + str(obj, "name")},
        {"message", str(ev, "message")}};
}
}  // namespace

std::vector<reports::EventRecord> EventRecorder::seen_since(const std::string& start) {
  auto t0 = chaos::parse_rfc3339(start).value_or(0);
  auto later = [](const reports::EventRecord& a, const reports::EventRecord& b) {
    return a.t < b.t;
  };
  std::vector<reports::EventRecord> out;  // a max-heap by t: the earliest kMaxEvents so far
  try {
    kube::ListOptions projected;
    projected.project = project_event;
    client_.list_each(
        res::kEvents, ns_, projected,
        [&](json& ev) {
          auto t = chaos::parse_rfc3339(ev.value("when", ""));
          if (!t || *t + 1 < t0) return true;
          reports::EventRecord r{*t - t0, ev.value("type", ""), ev.value("reason", ""),
                                 ev.value("object", ""), ev.value("message", "")};
          if (out.size() == kMaxEvents && !later(r, out.front())) return true;
          out.push_back(std::move(r));
          std::push_heap(out.begin(), out.end(), later);
          if (out.size() > kMaxEvents) {
            std::pop_heap(out.begin(), out.end(), later);
            out.pop_back();
          }
          return true;
        },
        [&] { out.clear(); });
  } catch (const std::exception& e) {
    log::warn(std::string("events: cannot list events: ") + e.what());
  }
  std::sort_heap(out.begin(), out.end(), later);
  return out;
}

}  // namespace faultline::experiment
