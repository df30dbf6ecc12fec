// The text of a Restore's warnings and errors, as `velero restore describe`
// gets it: a DownloadRequest for the RestoreResults, then a GET of the
// pre-signed URL Velero answers with (the object store of the
// BackupStorageLocation), a gzipped JSON {warnings, errors} each
// {velero: [], cluster: [], namespaces: {ns: []}}.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "runner/kube/client.h"

namespace faultline::dr {

struct RestoreMessages {
  std::vector<std::string> warnings, errors;  // "ns: message" or "cluster: message"
};

// Throws (std::runtime_error with the reason) when Velero does not answer
// within `within` or the download fails.
RestoreMessages restore_messages(kube::Client& client, const std::string& velero_ns,
                                 const std::string& restore, std::chrono::milliseconds within);

// Parses the decompressed results document.
RestoreMessages parse_restore_results(const nlohmann::json& results);
// gunzip; throws std::runtime_error on a corrupt stream.
std::string gunzip(const std::string& data);

// Velero's own noise on a restore into a fresh namespace: the namespace's
// kube-root-ca.crt ConfigMap, which the controller-manager makes in every
// namespace before Velero gets to it, "already exists". Not counted against
// accept_warnings (the report still lists it).
bool expected_warning(const std::string& message);

}  // namespace faultline::dr
