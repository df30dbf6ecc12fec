#include "runner/kube/client.h"

#include <algorithm>

#include "runner/common/log.h"
#include "runner/kube/client_state.h"
#include "runner/kube/status.h"
#include "runner/kube/url.h"

namespace faultline::kube {
namespace {

bool ok(int status) { return status >= 200 && status < 300; }

std::string name_of(const json& body) {
  if (body.is_object() && body.contains("metadata") && body["metadata"].is_object()) {
    const auto& m = body["metadata"];
    if (m.contains("name") && m["name"].is_string()) return m["name"].get<std::string>();
    if (m.contains("generateName") && m["generateName"].is_string())
      return m["generateName"].get<std::string>() + "*";
  }
  return "";
}

std::string string_at(const json& j, const char* a, const char* b) {
  if (!j.is_object() || !j.contains(a) || !j[a].is_object()) return "";
  const auto& inner = j[a];
  return inner.contains(b) && inner[b].is_string() ? inner[b].get<std::string>() : "";
}

const char* content_type(PatchType type) {
  switch (type) {
    case PatchType::Merge:
      return "application/merge-patch+json";
    case PatchType::StrategicMerge:
      return "application/strategic-merge-patch+json";
    case PatchType::Json:
      return "application/json-patch+json";
  }
  return "application/merge-patch+json";
}

// Merge and strategic-merge patches state the end result, so replaying one
// changes nothing. A JSON patch may append or remove by index; only one made
// of test/replace operations is safe to repeat.
bool patch_idempotent(const json& patch, PatchType type) {
  if (type != PatchType::Json) return true;
  if (!patch.is_array()) return false;
  for (const auto& op : patch) {
    auto name = op.is_object() ? op.value("op", "") : "";
    if (name != "test" && name != "replace") return false;
  }
  return true;
}

json delete_body(const DeleteOptions& o) {
  json body = json::object();
  if (o.grace_period_seconds) body["gracePeriodSeconds"] = *o.grace_period_seconds;
  if (!o.propagation_policy.empty()) body["propagationPolicy"] = o.propagation_policy;
  if (!o.precondition_uid.empty()) body["preconditions"]["uid"] = o.precondition_uid;
  if (!o.precondition_resource_version.empty())
    body["preconditions"]["resourceVersion"] = o.precondition_resource_version;
  if (o.dry_run) body["dryRun"] = json::array({"All"});
  return body;
}

}  // namespace

HttpRequest Client::State::prepare(const std::string& method, const std::string& path,
                                   const std::string& body, const std::string& type,
                                   std::chrono::milliseconds timeout) {
  HttpRequest req;
  req.method = method;
  req.path = path;
  req.body = body;
  req.timeout = timeout;
  req.headers["Accept"] = "application/json";
  if (!body.empty()) req.headers["Content-Type"] = type.empty() ? "application/json" : type;
  auto auth = credentials.current();
  if (!auth.bearer.empty()) req.headers["Authorization"] = "Bearer " + auth.bearer;
  req.client_cert_pem = std::move(auth.client_cert_pem);
  req.client_key_pem = std::move(auth.client_key_pem);
  return req;
}

ApiError Client::State::contextualize(const ApiError& e, const std::string& verb,
                                      const std::string& resource, const std::string& name) const {
  std::string message = e.message();
  for (const auto& secret : credentials.secrets()) {
    for (size_t at = message.find(secret); at != std::string::npos; at = message.find(secret, at))
      message.replace(at, secret.size(), "[redacted]");
  }
  return ApiError(e.kind(), e.http_status(), e.verb().empty() ? verb : e.verb(),
                  e.resource().empty() ? resource : e.resource(),
                  e.name().empty() ? name : e.name(), message, e.reason(), e.retry_after_seconds());
}

json parse_without_managed_fields(std::string_view text) {
  static const json::parser_callback_t skip = [](int, json::parse_event_t event, json& parsed) {
    return !(event == json::parse_event_t::key && parsed == "managedFields");
  };
  return json::parse(text, skip);
}

json parse_projected_list(std::string_view text, const std::function<void(json&)>& project) {
  // Depth as nlohmann counts it: the list object is 0, its "items" array 1,
  // each item 2. Each item is projected as soon as it is whole, so the page's
  // DOM holds one full item at most (a page of 500 kwok pods was ~15 MB of
  // DOM before projection, issue 14).
  std::string top_key;
  json::parser_callback_t each = [&](int depth, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::key) {
      if (depth == 1) top_key = parsed.get<std::string>();
      return parsed != "managedFields";
    }
    if (event == json::parse_event_t::object_end && depth == 2 && top_key == "items")
      project(parsed);
    return true;
  };
  return json::parse(text, each);
}

json decode(const HttpResponse& response, const std::string& verb, const std::string& resource,
            const std::string& name, bool drop_managed_fields,
            const std::function<void(json&)>& project_items) {
  try {
    if (project_items) return parse_projected_list(response.body, project_items);
    if (drop_managed_fields) return parse_without_managed_fields(response.body);
    return json::parse(response.body);
  } catch (const json::parse_error& e) {
    // Not e.what(): it quotes the body.
    throw ApiError(ApiError::Kind::Decode, response.status, verb, resource, name,
                   "response is not valid JSON (error at byte " + std::to_string(e.byte) + " of " +
                       std::to_string(response.body.size()) + ")");
  }
}

Client::Client(ClientConfig config, std::shared_ptr<HttpTransport> transport)
    : config_(std::move(config)),
      transport_(transport ? std::move(transport) : make_curl_transport(config_)),
      state_(std::make_shared<State>(config_)) {}

Client Client::urgent(std::chrono::milliseconds request_timeout, int max_retries) const {
  Client copy = *this;
  copy.config_.request_timeout = request_timeout;
  copy.config_.max_retries = max_retries;
  copy.rate_limited_ = false;
  return copy;
}

HttpResponse Client::request(const std::string& method, const std::string& path,
                             const std::string& body, const std::string& type,
                             const std::string& verb, const std::string& resource,
                             const std::string& name, bool idempotent) {
  const int max_retries = std::max(0, config_.max_retries);
  bool reauthenticated = false;
  bool maybe_applied = false;  // an earlier attempt may have reached the server
  for (int attempt = 0;;) {
    if (rate_limited_) state_->limiter.acquire();
    std::optional<ApiError> error;
    try {
      HttpRequest req = state_->prepare(method, path, body, type, config_.request_timeout);
      HttpResponse resp = transport_->send(req);
      if (ok(resp.status)) return resp;
      // A 401 was not processed, so re-authenticating once is safe for any
      // verb: the exec credential may have been revoked, the token rotated.
      if (resp.status == 401 && !reauthenticated && state_->credentials.invalidate()) {
        reauthenticated = true;
        continue;
      }
      // Our earlier DELETE went through but its answer was lost.
      if (resp.status == 404 && method == "DELETE" && maybe_applied)
        return HttpResponse{200, {}, "{}", false};
      error = status_error(resp, verb, resource, name);
    } catch (const ApiError& e) {
      error = e;
    }
    ApiError e = state_->contextualize(*error, verb, resource, name);
    if (!idempotent || !e.retryable() || attempt >= max_retries) throw e;
    maybe_applied = maybe_applied || e.kind() != ApiError::Kind::TooManyRequests;
    auto delay = state_->backoff.delay(attempt, e.retry_after_seconds());
    log::debug(std::string(e.what()) + "; retry " + std::to_string(attempt + 1) + "/" +
               std::to_string(max_retries) + " in " + std::to_string(delay.count()) + "ms");
    sleep_for(delay, {});
    ++attempt;
  }
}

json Client::get(const Resource& r, const std::string& ns, const std::string& name) {
  auto resp = request("GET", r.path(ns, name), "", "", "get", r.display(), name, true);
  return decode(resp, "get", r.display(), name);
}

json Client::list_each(const Resource& r, const std::string& ns, const ListOptions& options,
                       const std::function<bool(json& item)>& on_item,
                       const std::function<void()>& on_restart) {
  json first;
  std::string cont, rv;
  int64_t limit = options.limit;
  for (;;) {
    std::vector<std::pair<std::string, std::string>> q = {
        {"labelSelector", options.label_selector},
        {"fieldSelector", options.field_selector},
        {"limit", limit > 0 ? std::to_string(limit) : ""},
        {"continue", cont},
        // The API server refuses resourceVersion together with continue.
        {"resourceVersion", cont.empty() ? options.resource_version : ""}};
    HttpResponse resp;
    try {
      resp = request("GET", r.path(ns) + query_string(q), "", "", "list", r.display(), "", true);
    } catch (const ApiError& e) {
      // The continue token expired (410) between pages: as client-go's
      // pager does, fall back to one unpaginated list.
      if (e.kind() != ApiError::Kind::Gone || cont.empty() || limit == 0) throw;
      log::debug("list " + r.display() + ": continue token expired; listing without pages");
      if (on_restart) on_restart();
      cont.clear();
      limit = 0;
      continue;
    }
    // A caller that projects never reads managedFields: not even parsed
    // (it is most of a pod's JSON; a page of 500 full pods was ~37 MB of DOM),
    // and its items are projected while the page is parsed.
    json page = decode(resp, "list", r.display(), "", false, options.project);
    if (!page.is_object() ||
        (page.contains("items") && !page["items"].is_array() && !page["items"].is_null()))
      throw ApiError(ApiError::Kind::Decode, resp.status, "list", r.display(), "",
                     "response is not a list (expected an object with items)");
    bool more = true;
    if (page.contains("items") && page["items"].is_array()) {
      for (auto& item : page["items"])
        if (!(more = on_item(item))) break;
      page.erase("items");
    }
    if (first.is_null()) first = page;
    rv = string_at(page, "metadata", "resourceVersion");
    cont = string_at(page, "metadata", "continue");
    if (cont.empty() || !more) break;
  }
  json out = {{"resourceVersion", rv}};
  if (first.contains("apiVersion")) out["apiVersion"] = first["apiVersion"];
  if (first.contains("kind")) out["kind"] = first["kind"];
  return out;
}

json Client::list(const Resource& r, const std::string& ns, const ListOptions& options) {
  json items = json::array();
  auto meta = list_each(
      r, ns, options,
      [&](json& item) {
        items.push_back(std::move(item));
        return true;
      },
      [&] { items = json::array(); });
  json out = {{"items", std::move(items)},
              {"metadata", {{"resourceVersion", meta["resourceVersion"]}}}};
  if (meta.contains("apiVersion")) out["apiVersion"] = meta["apiVersion"];
  if (meta.contains("kind")) out["kind"] = meta["kind"];
  return out;
}

json Client::create(const Resource& r, const std::string& ns, const json& body) {
  auto name = name_of(body);
  // Never retried: a create that timed out may have happened.
  auto resp = request("POST", r.path(ns), body.dump(), "application/json", "create", r.display(),
                      name, false);
  return decode(resp, "create", r.display(), name);
}

json Client::replace(const Resource& r, const std::string& ns, const std::string& name,
                     const json& body) {
  // With a resourceVersion, a replayed PUT fails with 409 instead of
  // overwriting a newer object: safe to retry.
  bool guarded = !string_at(body, "metadata", "resourceVersion").empty();
  auto resp = request("PUT", r.path(ns, name), body.dump(), "application/json", "replace",
                      r.display(), name, guarded);
  return decode(resp, "replace", r.display(), name);
}

json Client::patch(const Resource& r, const std::string& ns, const std::string& name,
                   const json& patch, PatchType type) {
  auto resp = request("PATCH", r.path(ns, name), patch.dump(), content_type(type), "patch",
                      r.display(), name, patch_idempotent(patch, type));
  return decode(resp, "patch", r.display(), name);
}

void Client::remove(const Resource& r, const std::string& ns, const std::string& name,
                    const DeleteOptions& options) {
  json body = delete_body(options);
  request("DELETE", r.path(ns, name), body.empty() ? "" : body.dump(), "application/json", "delete",
          r.display(), name, true);
}

void Client::evict(const std::string& ns, const std::string& pod, const DeleteOptions& options) {
  json eviction = {{"apiVersion", "policy/v1"},
                   {"kind", "Eviction"},
                   {"metadata", {{"name", pod}, {"namespace", ns}}}};
  json del = delete_body(options);
  if (!del.empty()) eviction["deleteOptions"] = del;
  // Not retried here: a PDB's 429 belongs to the caller's drain loop, which
  // decides how long to keep trying.
  request("POST", resources::kPods.path(ns, pod, "eviction"), eviction.dump(), "application/json",
          "evict", "pods", pod, false);
}

json Client::server_version() {
  auto resp = request("GET", "/version", "", "", "get", "version", "", true);
  return decode(resp, "get", "version", "");
}

}  // namespace faultline::kube
