#include "runner/dr/results.h"

#include <curl/curl.h>
#include <zlib.h>

#include <memory>
#include <stdexcept>
#include <thread>

#include "runner/dr/velero.h"

namespace faultline::dr {
namespace {

const kube::Resource kDownloadRequests{"velero.io", "v1", "downloadrequests", true};

size_t append(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

std::string http_get(const std::string& url, std::chrono::milliseconds timeout) {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw std::runtime_error("curl_easy_init failed");
  std::string body;
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, append);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_PROTOCOLS_STR, "http,https");
  const CURLcode rc = curl_easy_perform(curl.get());
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  // The URL carries a signature: it is never part of a message.
  if (rc != CURLE_OK)
    throw std::runtime_error(std::string("download failed: ") + curl_easy_strerror(rc));
  if (status != 200) throw std::runtime_error("download failed: HTTP " + std::to_string(status));
  return body;
}

void collect(const nlohmann::json& part, std::vector<std::string>& out) {
  if (!part.is_object()) return;
  for (const char* scope : {"velero", "cluster"}) {
    const auto it = part.find(scope);
    if (it == part.end() || !it->is_array()) continue;
    for (const auto& m : *it) {
      if (m.is_string()) out.push_back(std::string(scope) + ": " + m.get<std::string>());
    }
  }
  const auto namespaces = part.find("namespaces");
  if (namespaces == part.end() || !namespaces->is_object()) return;
  for (auto ns = namespaces->begin(); ns != namespaces->end(); ++ns) {
    if (!ns->is_array()) continue;
    for (const auto& m : *ns) {
      if (m.is_string()) out.push_back(ns.key() + ": " + m.get<std::string>());
    }
  }
}

}  // namespace

std::string gunzip(const std::string& data) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw std::runtime_error("inflateInit2 failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  std::string out;
  char buf[16384];
  int rc = Z_OK;
  while (rc != Z_STREAM_END) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      inflateEnd(&z);
      throw std::runtime_error("restore results are not valid gzip");
    }
    out.append(buf, sizeof buf - z.avail_out);
    if (out.size() > (64u << 20)) {
      inflateEnd(&z);
      throw std::runtime_error("restore results larger than 64 MiB");
    }
  }
  inflateEnd(&z);
  return out;
}

RestoreMessages parse_restore_results(const nlohmann::json& results) {
  RestoreMessages m;
  if (!results.is_object()) return m;
  if (const auto w = results.find("warnings"); w != results.end()) collect(*w, m.warnings);
  if (const auto e = results.find("errors"); e != results.end()) collect(*e, m.errors);
  return m;
}

bool expected_warning(const std::string& message) {
  return message.find("could not restore, ConfigMap:kube-root-ca.crt already exists") !=
         std::string::npos;
}

RestoreMessages restore_messages(kube::Client& client, const std::string& velero_ns,
                                 const std::string& restore, std::chrono::milliseconds within) {
  const nlohmann::json body = {
      {"apiVersion", "velero.io/v1"},
      {"kind", "DownloadRequest"},
      {"metadata",
       {{"generateName", restore.substr(0, 40) + "-"},
        {"labels", {{"app.kubernetes.io/managed-by", "faultline"}}}}},
      {"spec", {{"target", {{"kind", "RestoreResults"}, {"name", restore}}}}}};
  const std::string name = client.create(kDownloadRequests, velero_ns, body)["metadata"]["name"];
  const auto until = std::chrono::steady_clock::now() + within;
  std::string url;
  while (url.empty() && std::chrono::steady_clock::now() < until) {
    const auto status =
        client.get(kDownloadRequests, velero_ns, name).value("status", nlohmann::json::object());
    url = status.value("downloadURL", "");
    if (url.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  try {
    client.remove(kDownloadRequests, velero_ns, name);
  } catch (const kube::ApiError& e) {
    if (e.kind() != kube::ApiError::Kind::NotFound) throw;
  }
  if (url.empty()) throw std::runtime_error("Velero gave no download URL for restore " + restore);
  const std::string text = gunzip(http_get(url, within));
  return parse_restore_results(nlohmann::json::parse(text));
}

}  // namespace faultline::dr
