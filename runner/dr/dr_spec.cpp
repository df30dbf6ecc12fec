#include "runner/dr/dr_spec.h"

#include <regex>

namespace faultline::dr {
namespace {

Located located(const YamlReader& node) { return {node.file(), node.line(), node.column()}; }

const std::regex kDnsLabel("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$");

std::string dns_label(const YamlReader& node, const std::string& what) {
  const std::string value = node.as_string(what);
  if (!std::regex_match(value, kDnsLabel)) {
    node.fail(what + ": expected a DNS label (lower-case letters, digits, '-'), got \"" + value +
              "\"");
  }
  return value;
}

}  // namespace

std::string Located::at(const std::string& message) const {
  return file + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
}

DrSpec parse_dr_spec(const YamlReader& node) {
  node.expect_map({"velero_namespace", "clusters", "backups"}, "spec.dr");
  DrSpec spec;
  if (node.has("velero_namespace")) {
    spec.velero_namespace = dns_label(node["velero_namespace"], "spec.dr.velero_namespace");
  }
  if (node.has("clusters")) {
    const YamlReader clusters = node["clusters"];
    if (!clusters.is_map())
      clusters.fail("spec.dr.clusters: expected a mapping of name: {context}");
    clusters.for_each([&](const std::string& name, const YamlReader& c) {
      if (!std::regex_match(name, kDnsLabel)) {
        c.fail("spec.dr.clusters: expected a DNS label as the cluster's name, got \"" + name +
               "\"");
      }
      c.expect_map({"context"}, "spec.dr.clusters." + name);
      spec.clusters.push_back({name,
                               c["context"].as_string("spec.dr.clusters." + name + ".context"),
                               located(c["context"])});
    });
  }
  if (node.has("backups")) {
    const YamlReader list = node["backups"];
    list.expect_sequence("spec.dr.backups");
    for (size_t i = 0; i < list.size(); ++i) {
      const YamlReader b = list.at(i);
      b.expect_map({"name", "cluster"}, "spec.dr.backups[]");
      DrSpec::BackupRef ref{b["name"].as_string("spec.dr.backups[].name"), "", located(b["name"])};
      if (b.has("cluster")) {
        ref.cluster = b["cluster"].as_string("spec.dr.backups[].cluster");
        const bool known = std::any_of(spec.clusters.begin(), spec.clusters.end(),
                                       [&](const auto& c) { return c.name == ref.cluster; });
        if (!known)
          b["cluster"].fail("spec.dr.backups[].cluster: \"" + ref.cluster +
                            "\" is not one of spec.dr.clusters");
      }
      spec.backups.push_back(ref);
    }
  }
  return spec;
}

}  // namespace faultline::dr
