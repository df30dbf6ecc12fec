// spec.dr of an experiment: the clusters a restore drill may act on besides
// the run's own (each a context of the run's kubeconfig), Velero's
// namespace, and the backups the experiment names (each must exist before
// the run starts).
//
//   dr:
//     velero_namespace: velero          # the default
//     clusters: { dr-region: { context: region-b } }
//     backups: [ { name: nightly-20261201, cluster: dr-region } ]
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runner/common/yaml_reader.h"

namespace faultline::dr {

struct Located {
  std::string file;
  int line = 0, column = 0;
  // "file:line:col: message"
  std::string at(const std::string& message) const;
};

struct DrSpec {
  std::string velero_namespace = "velero";
  struct ClusterRef {
    std::string name, context;
    Located where;  // of the context
  };
  std::vector<ClusterRef> clusters;
  struct BackupRef {
    std::string name, cluster;  // cluster "" = the run's
    Located where;
  };
  std::vector<BackupRef> backups;
};

// InputError (file:line:col) for anything unknown or mistyped.
DrSpec parse_dr_spec(const YamlReader& node);

}  // namespace faultline::dr
