#include "runner/kube/projection.h"

#include <cstring>

namespace faultline::kube {

using json = nlohmann::json;

json kept(json& object, std::initializer_list<Keep> parts) {
  json out = json::object();
  if (!object.is_object()) return out;
  for (const auto& [part, keys] : parts) {
    json& kept_part = out[part] = json::object();
    auto from = object.find(part);
    if (from == object.end() || !from->is_object()) continue;
    for (const char* key : keys)
      if (auto it = from->find(key); it != from->end()) kept_part[key] = std::move(*it);
  }
  return out;
}

json conditions_of(const json& object, const char* type) {
  json out = json::array();
  if (!object.is_object()) return out;
  auto status = object.find("status");
  if (status == object.end() || !status->is_object()) return out;
  auto conditions = status->find("conditions");
  if (conditions == status->end() || !conditions->is_array()) return out;
  for (const auto& c : *conditions) {
    if (!c.is_object()) continue;
    std::string t = c.value("type", "");
    if (type && t != type) continue;
    out.push_back({{"type", t}, {"status", c.value("status", "")}});
  }
  return out;
}

}  // namespace faultline::kube
