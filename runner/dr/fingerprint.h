// What a restore must reproduce, as hashes: for each object of a namespace
// that a drill checks (Deployments, StatefulSets, Services, ConfigMaps,
// Secrets), a SHA-256 of the part the user wrote (a workload's spec, a
// Service's ports and selector, a ConfigMap's or Secret's data), with the
// fields the API server or a controller fills in left out. Only hashes are
// kept, so a Secret's value never reaches a log, a journal or a report.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "runner/kube/client.h"

namespace faultline::dr {

using json = nlohmann::json;

// core/v1 Secrets (kube/ names only the resources the chaos side uses).
extern const kube::Resource kSecrets;

struct ObjectPrint {
  std::string spec_sha256;  // the user-written part (data, for ConfigMaps/Secrets)
  bool is_data = false;     // ConfigMap/Secret: a difference is a data difference
};

// "Kind/name" -> print, ordered so reports list objects in a stable order.
using Fingerprint = std::map<std::string, ObjectPrint>;

// The part of `object` (of `kind`) a restore must reproduce, normalised.
json essential_part(const std::string& kind, const json& object);
// SHA-256 of the compact JSON text of `value`, lower-case hex.
std::string sha256_hex(const std::string& text);
ObjectPrint print_of(const std::string& kind, const json& object);

// Every checked object of `ns` (service-account token Secrets and the
// kube-root-ca.crt ConfigMap, which every namespace gets, are left out).
Fingerprint take_fingerprint(kube::Client& client, const std::string& ns);

struct Mismatch {
  std::string object;  // "Secret/db-credentials"
  std::string what;    // missing | spec differs | data differs
};

// What `restored` lacks or holds differently from `source`. Objects only in
// `restored` are not mismatches (a restore may add defaults).
std::vector<Mismatch> compare(const Fingerprint& source, const Fingerprint& restored);

json to_json(const Fingerprint& print);  // {"Kind/name": "sha256"} (hashes only)

}  // namespace faultline::dr
