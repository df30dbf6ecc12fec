// Kubernetes label selectors, evaluated client-side (for pods already listed,
// PDB selectors and workload templates).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace faultline::chaos {

// "app=checkout,tier!=db,canary,!legacy" against a labels object. Set-based
// forms ("env in (a,b)") are supported too. Throws InputError when malformed.
bool selector_matches(const std::string& selector, const nlohmann::json& labels);

// A LabelSelector object ({matchLabels, matchExpressions}) as selector text.
std::string selector_to_string(const nlohmann::json& label_selector);

}  // namespace faultline::chaos
