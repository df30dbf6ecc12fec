// A probe URL may name a Service by its cluster DNS name
// (http://checkout.shop.svc/healthz, or ...svc.cluster.local). faultline
// resolves that name itself, from the Service's clusterIP, so a probe goes
// through the ClusterIP (kube-proxy) whether or not the machine it runs on
// can resolve cluster DNS (a laptop, a CI runner, a cluster without DNS).
#pragma once

#include <optional>
#include <string>

#include "runner/kube/client.h"

namespace faultline::observe {

struct ServiceHost {
  std::string service;
  std::string namespace_;
  std::string host;  // as written in the URL
  int port = 0;      // the URL's, else the scheme's default
};

// nullopt when the URL's host is not <service>.<namespace>.svc[.cluster.local].
std::optional<ServiceHost> service_host(const std::string& url);

// "host:port:clusterIP", a CURLOPT_RESOLVE entry. Throws std::runtime_error
// naming the Service when it is missing, headless or unreadable.
std::string resolve_entry(kube::Client& client, const ServiceHost& host);

}  // namespace faultline::observe
