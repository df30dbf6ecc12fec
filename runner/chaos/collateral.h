// What fail_zone's NoExecute taint evicts besides the target: every pod on
// the zone's nodes that does not tolerate the taint — DaemonSet pods and
// kube-system included — whatever guards.namespaces says. The pods outside
// the allowed namespaces are the collateral: listed by `plan`, refused at run
// time unless guards.allow_collateral is true, and named in the report.
#pragma once

#include <nlohmann/json.hpp>

#include <set>
#include <string>
#include <vector>

#include "runner/chaos/guards.h"

namespace faultline::chaos {

// "ns/name" of each pod in `pods` on one of `nodes` that the zone-failure
// taint would evict and that guards do not allow us to touch.
// A pod reduced to what zone_failure_collateral reads (name, namespace,
// deletionTimestamp, nodeName, tolerations): a kube::ListOptions::project.
void project_for_collateral(nlohmann::json& pod);

std::vector<std::string> zone_failure_collateral(const nlohmann::json& pods,
                                                 const std::set<std::string>& nodes,
                                                 const Guards& guards);

// Whether `pod` tolerates the NoExecute taint with kFailureTaintKey (any value).
bool tolerates_zone_failure(const nlohmann::json& pod);

}  // namespace faultline::chaos
