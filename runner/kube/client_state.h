// Internals shared by client.cpp and watch.cpp: what every copy of a Client
// shares (rate limiter, credentials), request preparation, error context.
#pragma once

#include <string>
#include <string_view>

#include "runner/kube/backoff.h"
#include "runner/kube/client.h"
#include "runner/kube/credentials.h"
#include "runner/kube/rate_limiter.h"

namespace faultline::kube {

struct Client::State {
  explicit State(const ClientConfig& config)
      : limiter(config.qps, config.burst), credentials(config) {}

  RateLimiter limiter;
  Credentials credentials;
  Backoff backoff;

  // The request with Accept, Content-Type and the current credentials.
  HttpRequest prepare(const std::string& method, const std::string& path, const std::string& body,
                      const std::string& content_type, std::chrono::milliseconds timeout);

  // e with verb/resource/name filled in (the transport does not know them)
  // and every token we ever sent scrubbed from the message.
  ApiError contextualize(const ApiError& e, const std::string& verb, const std::string& resource,
                         const std::string& name) const;
};

// The body as JSON; a Decode error (never quoting the body) when it is not.
// drop_managed_fields: every "managedFields" key is skipped while parsing.
// project_items: the body is a list; each of its items is projected as soon
// as it is parsed (and managedFields skipped).
json decode(const HttpResponse& response, const std::string& verb, const std::string& resource,
            const std::string& name, bool drop_managed_fields = false,
            const std::function<void(json&)>& project_items = {});

// JSON text parsed without its "managedFields" (at any depth): the DOM of
// what a projecting caller reads, not of the server's field bookkeeping.
// Throws json::parse_error like json::parse.
json parse_without_managed_fields(std::string_view text);

// A list's JSON text parsed with project applied to each item as soon as it
// is whole (and managedFields skipped): never more than one full item in DOM.
json parse_projected_list(std::string_view text, const std::function<void(json&)>& project);

}  // namespace faultline::kube
