// `faultline recover` (and the next run) for a restore drill whose runner
// died: undoes the drill's journal entries (chaos::is_drill_entry) in the
// cluster each one names. An entry records the cluster's name in
// spec.dr.clusters and the kubeconfig context that reached it; recover
// reaches it through the same context of its own kubeconfig, or through the
// one `--context-for NAME=CONTEXT` gives (another machine, another
// kubeconfig). Entries of the run's own cluster use recover's own client.
//
// Per entry, newest first, one at a time:
//   create velero.io/restore  let it finish (bounded), then delete it
//   create namespace          delete it (a namespace the drill restored into),
//                             unless it is older than the run (journal meta
//                             started_at, 5 min of clock slack): then it is
//                             someone else's, reached through a wrong context
//   delete namespace          the disaster deleted the source: restore it in
//                             place from the drill's Completed backup of it
//   create velero.io/backup   delete it and its data (DeleteBackupRequest),
//                             then the copies Velero's sync made in the
//                             journal's other clusters
#pragma once

#include <map>
#include <string>
#include <utility>

#include "runner/chaos/rollback.h"
#include "runner/kube/client.h"
#include "runner/kube/config.h"

namespace faultline::dr {

struct RecoverTargets {
  kube::LoadOptions base;                          // recover's kubeconfig; contexts replaced
  std::map<std::string, std::string> context_for;  // --context-for NAME=CONTEXT
};

// `home`: the cluster the journal is in (the entries naming no cluster).
chaos::DrillUndo drill_undo(kube::Client home, RecoverTargets targets);

// "NAME=CONTEXT" of --context-for; InputError (exit 2) otherwise.
std::pair<std::string, std::string> parse_context_for(const std::string& arg);

}  // namespace faultline::dr
