// Namespaces as a restore drill makes and removes them (the drill's
// rollback and `faultline recover` alike).
#pragma once

#include <chrono>
#include <string>

#include "runner/kube/client.h"

namespace faultline::dr {

bool namespace_exists(kube::Client& client, const std::string& ns);
// Deletes a namespace and waits until it is gone; false if still there at
// `until` (terminating). A namespace already gone is fine.
bool delete_namespace(kube::Client& client, const std::string& ns,
                      std::chrono::steady_clock::time_point until);

}  // namespace faultline::dr
