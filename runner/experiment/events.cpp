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
      target_ = {{"apiVersion", "apps/v1"}, {"kind", "Deployment"}, {"namespace", ns_},
                 {"name", d["metadata"]["name"]}, {"uid", d["metadata"]["uid"]}};
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
  json event = {{"apiVersion", "v1"},
                {"kind", "Event"},
                {"metadata", {{"generateName", target_["name"].get<std::string>() + ".faultline-"}, {"namespace", ns_}}},
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

std::vector<reports::EventRecord> EventRecorder::seen_since(const std::string& start) {
  std::vector<reports::EventRecord> out;
  auto t0 = chaos::parse_rfc3339(start).value_or(0);
  try {
    for (const auto& ev : chaos::items(client_.list(res::kEvents, ns_))) {
      auto str = [](const json& j, const char* k) {
        return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string();
      };
      std::string when = str(ev, "lastTimestamp");
      if (when.empty()) when = str(ev, "eventTime");
      if (when.empty()) when = str(ev["metadata"], "creationTimestamp");
      auto t = chaos::parse_rfc3339(when);
      if (!t || *t + 1 < t0) continue;
      const auto& obj = ev.value("involvedObject", json::object());
      out.push_back({*t - t0, ev.value("type", ""), ev.value("reason", ""),
                     obj.value("kind", "") + "/" + obj.value("name", ""), ev.value("message", "")});
      if (out.size() >= 500) break;
    }
  } catch (const std::exception& e) {
    log::warn(std::string("events: cannot list events: ") + e.what());
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.t < b.t; });
  return out;
}

}  // namespace faultline::experiment
