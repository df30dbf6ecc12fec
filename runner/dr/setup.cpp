#include "runner/dr/setup.h"

#include "runner/common/error.h"

namespace faultline::dr {

std::vector<Cluster> connect_clusters(const DrSpec& spec, const kube::LoadOptions& base) {
  std::vector<Cluster> out;
  for (const DrSpec::ClusterRef& c : spec.clusters) {
    kube::LoadOptions options = base;
    options.context = c.context;
    options.namespace_override.clear();
    options.allow_in_cluster = false;  // another cluster is never the one we run in
    try {
      out.push_back({c.name, kube::Client(kube::load_config(options)), c.context});
    } catch (const InputError& e) {
      throw InputError(c.where.at("spec.dr.clusters." + c.name + ".context: " + e.what()));
    }
  }
  return out;
}

void check_before_touching(kube::Client& home, const std::vector<Cluster>& clusters,
                           const DrSpec& spec) {
  DrillOptions options;
  options.velero_namespace = spec.velero_namespace;
  Drill probe(Cluster{"", home, ""}, clusters, nullptr, options);
  probe.preflight();
  for (const DrSpec::BackupRef& b : spec.backups) {
    try {
      probe.require_backup(b.name, b.cluster);
    } catch (const DrInputError& e) {
      throw InputError(b.where.at(std::string("spec.dr.backups[].name: ") + e.what()));
    }
  }
}

}  // namespace faultline::dr
