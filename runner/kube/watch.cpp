// Client::watch: list, then watch from the list's resourceVersion; recover
// from 410 Gone and cut streams by relisting and delivering only the
// difference, so the caller sees every change exactly once.
#include <map>
#include <random>
#include <set>

#include "runner/common/log.h"
#include "runner/kube/client.h"
#include "runner/kube/client_state.h"
#include "runner/kube/status.h"
#include "runner/kube/url.h"

namespace faultline::kube {
namespace {

std::string meta(const json& object, const char* field) {
  if (!object.is_object() || !object.contains("metadata") || !object["metadata"].is_object())
    return "";
  const auto& m = object["metadata"];
  return m.contains(field) && m[field].is_string() ? m[field].get<std::string>() : "";
}

// The metadata that names an object (what a DELETED synthesized after a
// relist carries: the last state is not kept).
json identity_of(const json& object) {
  json m = json::object();
  if (object.is_object() && object.contains("metadata") && object["metadata"].is_object())
    for (const char* k : {"name", "namespace", "uid", "resourceVersion", "labels"})
      if (object["metadata"].contains(k)) m[k] = object["metadata"][k];
  json id = {{"metadata", std::move(m)}};
  for (const char* k : {"apiVersion", "kind"})
    if (object.is_object() && object.contains(k)) id[k] = object[k];
  return id;
}

// The server closes a watch after timeoutSeconds; spread them like client-go
// (5 to 10 minutes) so many watchers do not reconnect together.
std::string watch_timeout() {
  thread_local std::mt19937 rng{std::random_device{}()};
  return std::to_string(std::uniform_int_distribution<int>(300, 600)(rng));
}

// A watch ERROR event's Status as an ApiError.
ApiError event_error(const json& status, const std::string& resource) {
  HttpResponse fake;
  fake.status = status.is_object() && status.contains("code") && status["code"].is_number_integer()
                    ? status["code"].get<int>()
                    : 500;
  fake.body = status.dump();
  return status_error(fake, "watch", resource, "");
}

}  // namespace

void Client::watch(const Resource& r, const std::string& ns, const ListOptions& options,
                   const std::function<bool(const WatchEvent&)>& on_event, std::stop_token stop) {
  const std::string what = r.display();
  // What the caller has seen, by uid: the resourceVersion, and just enough of
  // the object to say which one a synthesized DELETED is about (name,
  // namespace, uid, labels). Not the whole object: at 10k pods the copies
  // were most of the runner's memory (issue 14). Kept as MessagePack, not as
  // a DOM: ~200 bytes a pod instead of ~1 KB of map nodes; it is decoded
  // only for the rare DELETED a relist synthesizes.
  struct Known {
    std::string resource_version;
    std::vector<std::uint8_t> identity;
  };
  std::map<std::string, Known> delivered;
  std::exception_ptr caller_error;  // thrown by on_event: rethrown as is
  bool caller_done = false;

  // Delivers one change, keeping `delivered` in step. False: stop watching.
  auto deliver = [&](const std::string& type, const json& object, bool from_list) {
    auto uid = meta(object, "uid");
    auto rv = meta(object, "resourceVersion");
    if (type == "DELETED") {
      delivered.erase(uid);
    } else {
      auto it = delivered.find(uid);
      if (it != delivered.end() && it->second.resource_version == rv) return true;  // seen
      delivered[uid] = Known{rv, json::to_msgpack(identity_of(object))};
    }
    try {
      if (!on_event(WatchEvent{type, object, from_list})) caller_done = true;
    } catch (...) {
      caller_error = std::current_exception();
    }
    return !caller_done && !caller_error;
  };

  // Lists and delivers the difference against what was delivered: new
  // objects as ADDED, changed ones as MODIFIED, vanished ones as DELETED
  // (with their identity only: metadata name, namespace, uid, labels). The first list delivers
  // everything.
  auto relist = [&](bool first) -> std::string {
    ListOptions lo = options;
    if (!first) lo.resource_version = "";
    // Page by page: the list is never held whole (10k pods).
    std::set<std::string> present;
    bool stopped = false;
    json list_meta = this->list_each(
        r, ns, lo,
        [&](json& item) {
          auto uid = meta(item, "uid");
          present.insert(uid);
          const char* type = delivered.count(uid) ? "MODIFIED" : "ADDED";
          stopped = !deliver(type, item, true);
          return !stopped;
        },
        [&] { present.clear(); });
    if (stopped) return "";
    std::vector<json> gone;
    for (const auto& [uid, known] : delivered)
      if (!present.count(uid)) gone.push_back(json::from_msgpack(known.identity));
    for (const auto& object : gone)
      if (!deliver("DELETED", object, true)) return "";
    if (options.send_synced) {
      try {
        if (!on_event(WatchEvent{"SYNCED", json(), true})) caller_done = true;
      } catch (...) {
        caller_error = std::current_exception();
      }
      if (caller_done || caller_error) return "";
    }
    return list_meta.value("resourceVersion", "");
  };

  std::string rv;
  bool need_list = true, first = true, reauthenticated = false;
  int failures = 0, quiet = 0;
  while (!stop.stop_requested()) {
    std::optional<ApiError> failure;
    try {
      if (need_list) {
        rv = relist(first);
        if (caller_error) std::rethrow_exception(caller_error);
        if (caller_done) return;
        first = false;
        need_list = false;
      }

      std::vector<std::pair<std::string, std::string>> q = {
          {"watch", "1"},
          {"allowWatchBookmarks", "true"},
          {"resourceVersion", rv},
          {"labelSelector", options.label_selector},
          {"fieldSelector", options.field_selector},
          {"timeoutSeconds", watch_timeout()}};
      // Stops this stream only: on the caller's stop, or from inside on_data
      // when the stream must be abandoned (410, an ERROR event, caller done).
      std::stop_source stream_stop;
      std::stop_callback link(stop, [&] { stream_stop.request_stop(); });
      bool gone = false;
      std::optional<ApiError> event_failure;
      std::string buffer;
      bool progressed = false;  // an event or a bookmark arrived

      auto on_data = [&](std::string_view chunk) {
        buffer.append(chunk);
        size_t start = 0;
        for (size_t nl;
             !stream_stop.stop_requested() && (nl = buffer.find('\n', start)) != std::string::npos;
             start = nl + 1) {
          std::string_view line(buffer.data() + start, nl - start);
          if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
          json event;
          try {
            event = options.project ? parse_without_managed_fields(line) : json::parse(line);
          } catch (const json::parse_error&) {
            event = json(json::value_t::discarded);
          }
          if (event.is_discarded() || !event.is_object() || !event.contains("type") ||
              !event["type"].is_string())
            throw ApiError(
                ApiError::Kind::Decode, 200, "watch", what, "",
                "watch event is not valid JSON (" + std::to_string(line.size()) + " bytes)");
          auto type = event["type"].get<std::string>();
          json& object = event["object"];
          if (options.project && object.is_object() &&
              (type == "ADDED" || type == "MODIFIED" || type == "DELETED"))
            options.project(object);
          if (type == "BOOKMARK") {
            progressed = true;
            if (auto v = meta(object, "resourceVersion"); !v.empty()) rv = v;
          } else if (type == "ERROR") {
            auto e = event_error(object, what);
            if (e.kind() == ApiError::Kind::Gone)
              gone = true;
            else
              event_failure = e;
            stream_stop.request_stop();
          } else if (type == "ADDED" || type == "MODIFIED" || type == "DELETED") {
            progressed = true;
            if (auto v = meta(object, "resourceVersion"); !v.empty()) rv = v;
            if (!deliver(type, object, false)) stream_stop.request_stop();
          } else {
            throw ApiError(ApiError::Kind::Decode, 200, "watch", what, "",
                           "unknown watch event type \"" + type + "\"");
          }
        }
        buffer.erase(0, start);
      };

      HttpRequest req = state_->prepare("GET", r.path(ns) + query_string(q), "", "",
                                        std::chrono::milliseconds(0));
      state_->limiter.acquire(stop);
      HttpResponse resp = transport_->stream(req, on_data, stream_stop.get_token());
      if (caller_error) std::rethrow_exception(caller_error);
      if (caller_done || stop.stop_requested()) return;
      if (resp.status == 401 && !reauthenticated && state_->credentials.invalidate()) {
        reauthenticated = true;
        continue;
      }
      if (resp.status < 200 || resp.status >= 300) {
        auto e = status_error(resp, "watch", what, "");
        if (e.kind() != ApiError::Kind::Gone) throw e;
        gone = true;
      }
      if (event_failure) throw *event_failure;
      if (progressed) failures = quiet = 0;
      reauthenticated = false;
      if (gone) {
        log::debug("watch " + what + ": resourceVersion " + rv + " is gone (410); relisting");
        need_list = true;
      } else if (resp.truncated || !buffer.empty()) {
        log::debug("watch " + what + ": stream cut; relisting");
        need_list = true;
      }
      // Otherwise the server ended the watch cleanly (timeoutSeconds):
      // resume from the last resourceVersion. Streams that keep ending with
      // nothing in them (a proxy closing idle connections, a server that
      // 410s at once) are retried after a pause, so we never spin.
      if (!progressed && !sleep_for(state_->backoff.delay(quiet++, std::nullopt), stop)) return;
      continue;
    } catch (const ApiError& e) {
      if (caller_error) std::rethrow_exception(caller_error);  // the caller's own, untouched
      failure = state_->contextualize(e, "watch", what, "");
    }
    // Errors a relist can fix are retried for as long as the caller watches;
    // the others (403, 404 on the type, bad data) end the watch.
    if (!failure->retryable() && failure->kind() != ApiError::Kind::Timeout) throw *failure;
    auto delay = state_->backoff.delay(failures++, failure->retry_after_seconds());
    log::warn(std::string(failure->what()) + "; relisting in " + std::to_string(delay.count()) +
              "ms");
    need_list = true;
    if (!sleep_for(delay, stop)) return;
  }
}

}  // namespace faultline::kube
