#include "runner/dr/namespaces.h"

#include <thread>

namespace faultline::dr {

namespace res = kube::resources;
using kube::ApiError;

bool namespace_exists(kube::Client& client, const std::string& ns) {
  try {
    client.get(res::kNamespaces, "", ns);
    return true;
  } catch (const ApiError& e) {
    if (e.kind() == ApiError::Kind::NotFound) return false;
    throw;
  }
}

bool delete_namespace(kube::Client& client, const std::string& ns,
                      std::chrono::steady_clock::time_point until) {
  try {
    client.remove(res::kNamespaces, "", ns);
  } catch (const ApiError& e) {
    if (e.kind() != ApiError::Kind::NotFound) throw;
  }
  while (std::chrono::steady_clock::now() < until) {
    if (!namespace_exists(client, ns)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return !namespace_exists(client, ns);
}

}  // namespace faultline::dr
