// The Kubernetes API client every fault and observation goes through.
// Thread-safe: one Client is shared by all workers.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "runner/kube/config.h"
#include "runner/kube/errors.h"
#include "runner/kube/resource.h"
#include "runner/kube/transport.h"

namespace faultline::kube {

using json = nlohmann::json;

enum class PatchType { Merge, StrategicMerge, Json };

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  // Page size; pages are followed with `continue`. 100, not kubectl's 500:
  // a page is held as its body and its decoded items at once, and 500 pods
  // were ~4 MB of body and ~7 MB of items (issue 14 heap profile at 1,500
  // pods); 5x the requests for a list costs little on a reused connection.
  int64_t limit = 100;
  std::string resource_version;  // "" = most recent
  // watch only: after the items of every list (the first, and each relist's
  // difference) a SYNCED event (no object) says the caller's view now equals
  // the list's. Off by default: callers that do not ask never see one.
  bool send_synced = false;
  // Applied to each item as its page (or watch event) is decoded, before it
  // is kept or delivered: a caller that needs a few fields drops the rest
  // (managedFields, containers, volumes...) instead of holding whole objects.
  std::function<void(json& item)> project;
};

struct DeleteOptions {
  std::optional<int64_t> grace_period_seconds;
  std::string propagation_policy;  // Foreground | Background | Orphan
  std::string precondition_uid;
  std::string precondition_resource_version;
  bool dry_run = false;
};

struct WatchEvent {
  std::string type;  // ADDED MODIFIED DELETED, SYNCED if asked (BOOKMARKs are consumed internally)
  json object;
  // Delivered from a list (the first one or a relist), not from the stream:
  // one of a batch that only makes sense whole, until the SYNCED after it.
  bool from_list = false;
};

class Client {
 public:
  explicit Client(ClientConfig config, std::shared_ptr<HttpTransport> transport = nullptr);

  const ClientConfig& config() const { return config_; }

  // A copy sharing this client's connections and credentials whose requests
  // each end within `request_timeout`, are retried at most `max_retries`
  // times and skip the rate limiter: for work that must never wait behind a
  // drain's burst or a hung request (renewing the drill lock, see
  // chaos::RunLock).
  Client urgent(std::chrono::milliseconds request_timeout, int max_retries) const;

  json get(const Resource& r, const std::string& ns, const std::string& name);
  // All pages merged: {"items": [...], "metadata": {"resourceVersion": "..."}}.
  json list(const Resource& r, const std::string& ns, const ListOptions& options = {});
  // The same list a page at a time, never whole: on_item gets each item (as
  // projected) and returns false to stop; on_restart is called when an
  // expired continue token restarts the list from its first item. Returns
  // {resourceVersion, apiVersion, kind} of the list.
  json list_each(const Resource& r, const std::string& ns, const ListOptions& options,
                 const std::function<bool(json& item)>& on_item,
                 const std::function<void()>& on_restart = {});
  json create(const Resource& r, const std::string& ns, const json& body);
  json replace(const Resource& r, const std::string& ns, const std::string& name, const json& body);
  json patch(const Resource& r, const std::string& ns, const std::string& name, const json& patch,
             PatchType type = PatchType::Merge);
  void remove(const Resource& r, const std::string& ns, const std::string& name,
              const DeleteOptions& options = {});
  // POST pods/eviction (policy/v1). A PDB refusal throws ApiError TooManyRequests.
  void evict(const std::string& ns, const std::string& pod, const DeleteOptions& options = {});
  json server_version();  // GET /version

  // List then watch from the list's resourceVersion, calling on_event for the
  // initial items (as ADDED) and every change after. A 410 Gone or a cut
  // stream relists and emits the difference (ADDED/MODIFIED/DELETED against
  // what was already delivered), so no event is lost or repeated. A DELETED
  // made up by a relist carries only the object's metadata name, namespace,
  // uid, resourceVersion and labels (the whole objects are not kept). Returns
  // when on_event returns false or stop is requested. Throws ApiError for
  // errors a relist cannot fix (403, 404 on the resource type, ...).
  void watch(const Resource& r, const std::string& ns, const ListOptions& options,
             const std::function<bool(const WatchEvent&)>& on_event, std::stop_token stop);

  // GET `path` as a stream of text lines (pods/log?follow=true): on_line
  // gets each complete line as it arrives and returns false to stop. Returns
  // when the server ends the stream (true: cleanly; false: cut), on_line
  // returns false, or stop is requested. Throws ApiError for a non-2xx
  // answer. No retries: the caller decides where to resume (sinceTime).
  bool stream_lines(const std::string& path, const std::string& resource, const std::string& name,
                    const std::function<bool(std::string_view line)>& on_line,
                    std::stop_token stop);

  // Raw request with auth, rate limit, retries (idempotent verbs only) and
  // typed errors. verb/resource/name label errors.
  HttpResponse request(const std::string& method, const std::string& path, const std::string& body,
                       const std::string& content_type, const std::string& verb,
                       const std::string& resource, const std::string& name, bool idempotent);

 private:
  ClientConfig config_;
  std::shared_ptr<HttpTransport> transport_;
  struct State;
  std::shared_ptr<State> state_;  // rate limiter, credential cache
  bool rate_limited_ = true;
};

}  // namespace faultline::kube
