#include "runner/observe/service_host.h"

#include <regex>
#include <stdexcept>

#include "runner/kube/resource.h"

namespace faultline::observe {

std::optional<ServiceHost> service_host(const std::string& url) {
  static const std::regex pattern(
      R"(^(https?)://(([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc(\.cluster\.local)?)(:([0-9]{1,5}))?([/?#].*)?$)",
      std::regex::icase);
  std::smatch m;
  if (!std::regex_match(url, m, pattern)) return std::nullopt;
  ServiceHost h;
  h.host = m[2];
  h.service = m[3];
  h.namespace_ = m[5];
  h.port = m[9].matched ? std::stoi(m[9]) : (m[1] == "https" ? 443 : 80);
  return h;
}

std::string resolve_entry(kube::Client& client, const ServiceHost& host) {
  std::string what = "Service " + host.namespace_ + "/" + host.service + " (for " + host.host + ")";
  nlohmann::json svc;
  try {
    svc = client.get(kube::resources::kServices, host.namespace_, host.service);
  } catch (const kube::ApiError& e) {
    throw std::runtime_error("cannot resolve " + what + ": " + e.what());
  }
  std::string ip = svc["spec"].value("clusterIP", "");
  if (ip.empty() || ip == "None")
    throw std::runtime_error("cannot resolve " + what + ": it has no clusterIP (headless)");
  return host.host + ":" + std::to_string(host.port) + ":" + ip;
}

}  // namespace faultline::observe
