// Cutting a decoded object down to the fields its reader uses, for
// ListOptions::project: one form for every kind (pods, nodes, events), so a
// cache keeps a few hundred bytes per object instead of the whole document
// (issue 14: whole pods were ~0.2 MiB each in the runner's heap).
#pragma once

#include <nlohmann/json.hpp>

#include <initializer_list>

namespace faultline::kube {

// The keys kept of one top-level part ("metadata", "spec", "status").
struct Keep {
  const char* part;
  std::initializer_list<const char*> keys;
};

// A new object holding object[part][key] for each key of each part, moved
// out of `object` (read nothing moved afterwards). Each listed part is an
// object in the result even when none of its keys was present, so readers
// may index it. A non-object `object` gives an empty object.
nlohmann::json kept(nlohmann::json& object, std::initializer_list<Keep> parts);

// object.status.conditions reduced to {type, status} each; only the
// condition of `type` when given. Empty when there are none.
nlohmann::json conditions_of(const nlohmann::json& object, const char* type = nullptr);

}  // namespace faultline::kube
