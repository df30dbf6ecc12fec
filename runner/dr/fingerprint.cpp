#include "runner/dr/fingerprint.h"

#include <openssl/evp.h>

#include <array>
#include <stdexcept>

namespace faultline::dr {

const kube::Resource kSecrets{"", "v1", "secrets", true};

namespace {

namespace res = kube::resources;

struct Checked {
  const char* kind;
  const kube::Resource* resource;
};

// Deployments and StatefulSets are the workloads the drills restore; the
// rest is what they need to run. Kept short on purpose: each kind here is
// one the report can say something definite about.
const Checked kChecked[] = {
    {"Deployment", &res::kDeployments},
    {"StatefulSet", &res::kStatefulSets},
    {"Service", &res::kServices},
    {"ConfigMap", &res::kConfigMaps},
    {"Secret", &kSecrets},
};

json without(json value, std::initializer_list<const char*> keys) {
  if (!value.is_object()) return value;
  for (const char* key : keys) value.erase(key);
  return value;
}

bool skipped(const std::string& kind, const json& object) {
  const std::string name = object["metadata"].value("name", "");
  if (kind == "ConfigMap" && name == "kube-root-ca.crt") return true;
  if (kind == "Secret" && object.value("type", "") == "kubernetes.io/service-account-token") {
    return true;
  }
  return false;
}

}  // namespace

json essential_part(const std::string& kind, const json& object) {
  if (kind == "ConfigMap") {
    return {{"data", object.value("data", json::object())},
            {"binaryData", object.value("binaryData", json::object())}};
  }
  if (kind == "Secret") {
    return {{"type", object.value("type", "Opaque")},
            {"data", object.value("data", json::object())}};
  }
  json spec = object.value("spec", json::object());
  if (kind == "Service") {
    // Allocated by the API server; a restore into another cluster gets others.
    spec = without(spec, {"clusterIP", "clusterIPs", "healthCheckNodePort", "ipFamilies",
                          "ipFamilyPolicy", "internalTrafficPolicy", "sessionAffinity"});
    if (spec.contains("ports")) {
      for (json& port : spec["ports"]) port.erase("nodePort");
    }
    return spec;
  }
  // Workloads: a scaled-down or paused copy is not the same service.
  return spec;
}

std::string sha256_hex(const std::string& text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int size = 0;
  if (EVP_Digest(text.data(), text.size(), digest.data(), &size, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed (OpenSSL EVP_Digest)");
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(size * 2);
  for (unsigned int i = 0; i < size; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xf];
  }
  return out;
}

ObjectPrint print_of(const std::string& kind, const json& object) {
  // nlohmann::json objects are key-ordered, so the dump is canonical.
  return {sha256_hex(essential_part(kind, object).dump()), kind == "ConfigMap" || kind == "Secret"};
}

Fingerprint take_fingerprint(kube::Client& client, const std::string& ns) {
  Fingerprint print;
  for (const Checked& checked : kChecked) {
    const json list = client.list(*checked.resource, ns);
    for (const json& item : list.value("items", json::array())) {
      if (skipped(checked.kind, item)) continue;
      print[std::string(checked.kind) + "/" + item["metadata"].value("name", "")] =
          print_of(checked.kind, item);
    }
  }
  return print;
}

std::vector<Mismatch> compare(const Fingerprint& source, const Fingerprint& restored) {
  std::vector<Mismatch> out;
  for (const auto& [object, print] : source) {
    const auto it = restored.find(object);
    if (it == restored.end()) {
      out.push_back({object, "missing"});
    } else if (it->second.spec_sha256 != print.spec_sha256) {
      out.push_back({object, print.is_data ? "data differs" : "spec differs"});
    }
  }
  return out;
}

json to_json(const Fingerprint& print) {
  json out = json::object();
  for (const auto& [object, p] : print) out[object] = p.spec_sha256;
  return out;
}

}  // namespace faultline::dr
