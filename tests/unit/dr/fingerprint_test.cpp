#include "runner/dr/fingerprint.h"

#include <gtest/gtest.h>

namespace faultline::dr {
namespace {

TEST(Fingerprint, Sha256OfKnownText) {
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Fingerprint, ServiceIgnoresWhatTheApiServerAllocates) {
  const json a = {{"metadata", {{"name", "web"}}},
                  {"spec",
                   {{"clusterIP", "10.96.0.10"},
                    {"clusterIPs", {"10.96.0.10"}},
                    {"selector", {{"app", "web"}}},
                    {"ports", {{{"port", 80}, {"nodePort", 30001}}}}}}};
  json b = a;
  b["spec"]["clusterIP"] = "10.96.7.7";
  b["spec"]["clusterIPs"] = {"10.96.7.7"};
  b["spec"]["ports"][0]["nodePort"] = 30002;
  EXPECT_EQ(print_of("Service", a).spec_sha256, print_of("Service", b).spec_sha256);
  b["spec"]["selector"]["app"] = "other";
  EXPECT_NE(print_of("Service", a).spec_sha256, print_of("Service", b).spec_sha256);
}

TEST(Fingerprint, SecretDataDifferenceIsADataMismatchWithoutTheValue) {
  const json secret = {{"metadata", {{"name", "db"}}},
                       {"type", "Opaque"},
                       {"data", {{"password", "c2VjcmV0LXZhbHVl"}}}};
  json changed = secret;
  changed["data"]["password"] = "b3RoZXI=";
  Fingerprint source{{"Secret/db", print_of("Secret", secret)}};
  Fingerprint restored{{"Secret/db", print_of("Secret", changed)}};
  const auto mismatches = compare(source, restored);
  ASSERT_EQ(mismatches.size(), 1u);
  EXPECT_EQ(mismatches[0].object, "Secret/db");
  EXPECT_EQ(mismatches[0].what, "data differs");
  // Only hashes are kept: neither the value nor its base64 is in the print.
  const std::string dumped = to_json(source).dump() + to_json(restored).dump();
  EXPECT_EQ(dumped.find("c2VjcmV0LXZhbHVl"), std::string::npos);
  EXPECT_EQ(dumped.find("secret-value"), std::string::npos);
}

TEST(Fingerprint, MissingAndChangedSpecAreReportedExtraObjectsAreNot) {
  const json dep = {{"metadata", {{"name", "api"}}}, {"spec", {{"replicas", 3}}}};
  json scaled = dep;
  scaled["spec"]["replicas"] = 1;
  Fingerprint source{{"Deployment/api", print_of("Deployment", dep)},
                     {"ConfigMap/cfg", print_of("ConfigMap", json::object())}};
  Fingerprint restored{{"Deployment/api", print_of("Deployment", scaled)},
                       {"ConfigMap/extra", print_of("ConfigMap", json::object())}};
  const auto mismatches = compare(source, restored);
  ASSERT_EQ(mismatches.size(), 2u);
  EXPECT_EQ(mismatches[0].object, "ConfigMap/cfg");
  EXPECT_EQ(mismatches[0].what, "missing");
  EXPECT_EQ(mismatches[1].object, "Deployment/api");
  EXPECT_EQ(mismatches[1].what, "spec differs");
  EXPECT_TRUE(compare(source, source).empty());
}

}  // namespace
}  // namespace faultline::dr
