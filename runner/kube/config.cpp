// kubeconfig loading with kubectl's rules: the file list, the merge (the
// first file to define a name or current-context wins), the context, and
// file paths relative to the file that named them.
#include "runner/kube/config.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "runner/common/error.h"
#include "runner/common/yaml_reader.h"
#include "runner/kube/base64.h"

namespace faultline::kube {
namespace {

namespace fs = std::filesystem;

struct Entry {
  YamlReader body;   // the "cluster" / "user" / "context" mapping
  std::string file;  // the file that defined it (relative paths resolve there)
};

struct Merged {
  std::vector<std::string> files;
  std::map<std::string, Entry> clusters, users, contexts;
  std::optional<YamlReader> current_context;
};

std::string join(const std::vector<std::string>& items, const std::string& sep) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

std::string in_quotes(const std::string& s) { return "\"" + s + "\""; }

std::string resolve(const std::string& file, const std::string& path) {
  fs::path p(path);
  if (p.is_absolute()) return p.lexically_normal().string();
  return (fs::path(file).parent_path() / p).lexically_normal().string();
}

// Reads a file a kubeconfig field names; errors point at the field.
std::string read_named_file(const YamlReader& field, const std::string& what,
                            const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) field.fail(what + ": cannot read " + path + ": " + std::strerror(errno));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

bool looks_like_pem(const std::string& text, bool key) {
  if (key)
    return text.find("-----BEGIN") != std::string::npos &&
           text.find("PRIVATE KEY-----") != std::string::npos;
  return text.find("-----BEGIN CERTIFICATE-----") != std::string::npos;
}

// PEM from "<name>-data" (base64) or "<name>" (a file). Data wins, as in
// client-go. Never echoes the content in an error.
std::string read_pem(const YamlReader& body, const std::string& what, const std::string& file,
                     const std::string& name, bool key) {
  const char* expected = key ? "a PEM private key" : "a PEM certificate";
  if (auto data = body[name + "-data"]; data.defined()) {
    auto field = what + ": field " + in_quotes(name + "-data");
    auto decoded = base64_decode(data.as_string(field));
    if (!decoded) data.fail(field + ": expected base64 of " + expected);
    if (!looks_like_pem(*decoded, key))
      data.fail(field + ": expected base64 of " + expected + " (decoded data is not PEM)");
    return *decoded;
  }
  if (auto path = body[name]; path.defined()) {
    auto field = what + ": field " + in_quotes(name);
    auto full = resolve(file, path.as_string(field));
    auto text = read_named_file(path, field, full);
    if (!looks_like_pem(text, key)) path.fail(field + ": " + full + " is not " + expected);
    return text;
  }
  return "";
}

void collect(const YamlReader& list, const std::string& file, const char* kind,
             const char* body_key, std::map<std::string, Entry>& into) {
  if (!list.defined()) return;
  list.expect_sequence(std::string(kind) + "s");
  for (size_t i = 0; i < list.size(); ++i) {
    auto item = list.at(i);
    item.expect_map({"name", body_key}, std::string(kind) + " entry");
    auto name = item["name"].as_string(std::string(kind) + " entry");
    // kubectl's merge: the first file to define a name wins.
    into.try_emplace(name, Entry{item[body_key], file});
  }
}

Merged merge(const std::vector<std::string>& files) {
  Merged m;
  m.files = files;
  for (const auto& file : files) {
    auto doc = YamlReader::load_file(file);
    if (!doc.defined()) continue;  // an empty file is an empty config
    doc.expect_map({"apiVersion", "kind", "preferences", "clusters", "users", "contexts",
                    "current-context", "extensions"},
                   "kubeconfig");
    if (auto kind = doc["kind"]; kind.defined() && kind.as_string("kind") != "Config")
      kind.fail("field \"kind\": expected Config, got " + in_quotes(kind.as_string("kind")));
    collect(doc["clusters"], file, "cluster", "cluster", m.clusters);
    collect(doc["users"], file, "user", "user", m.users);
    collect(doc["contexts"], file, "context", "context", m.contexts);
    auto current = doc["current-context"];
    if (!m.current_context && current.defined() && !current.as_string("current-context").empty())
      m.current_context = current;
  }
  return m;
}

void read_cluster(const std::string& name, const Entry& e, ClientConfig& c) {
  auto what = "cluster " + in_quotes(name);
  auto& b = e.body;
  if (!b.defined()) b.fail(what + ": the entry has no \"cluster\" mapping");
  b.expect_map(
      {"server", "certificate-authority", "certificate-authority-data", "insecure-skip-tls-verify",
       "tls-server-name", "proxy-url", "disable-compression", "extensions"},
      what);
  c.cluster_name = name;
  c.server = b["server"].as_string(what);
  if (c.server.rfind("https://", 0) != 0 && c.server.rfind("http://", 0) != 0)
    b["server"].fail(what + ": field \"server\": expected a URL like https://host:6443, got " +
                     in_quotes(c.server));
  while (c.server.size() > 8 && c.server.back() == '/') c.server.pop_back();
  c.ca_pem = read_pem(b, what, e.file, "certificate-authority", false);
  if (auto v = b["insecure-skip-tls-verify"]; v.defined())
    c.insecure_skip_tls_verify = v.as_bool(what + ": field \"insecure-skip-tls-verify\"");
  if (c.insecure_skip_tls_verify && !c.ca_pem.empty())
    b["insecure-skip-tls-verify"].fail(
        what +
        ": field \"insecure-skip-tls-verify\": cannot be true together with "
        "certificate-authority(-data) (expected one or the other)");
  if (auto v = b["tls-server-name"]; v.defined())
    c.tls_server_name = v.as_string(what + ": field \"tls-server-name\"");
  if (auto v = b["proxy-url"]; v.defined()) {
    c.proxy_url = v.as_string(what + ": field \"proxy-url\"");
    bool ok = false;
    for (const char* scheme : {"http://", "https://", "socks5://", "socks5h://"})
      ok = ok || c.proxy_url.rfind(scheme, 0) == 0;
    if (!ok)
      v.fail(what + ": field \"proxy-url\": expected an http, https or socks5 URL, got " +
             in_quotes(c.proxy_url));
  }
}

ExecConfig read_exec(const YamlReader& x, const std::string& what, const std::string& file,
                     const std::string& user) {
  auto ew = what + ": exec";
  x.expect_map({"command", "args", "env", "apiVersion", "installHint", "provideClusterInfo",
                "interactiveMode"},
               ew);
  ExecConfig exec;
  exec.source = file + " user " + in_quotes(user);
  exec.api_version = x["apiVersion"].as_string(ew);
  if (exec.api_version != "client.authentication.k8s.io/v1" &&
      exec.api_version != "client.authentication.k8s.io/v1beta1")
    x["apiVersion"].fail(ew +
                         ": field \"apiVersion\": expected client.authentication.k8s.io/v1 "
                         "or client.authentication.k8s.io/v1beta1, got " +
                         in_quotes(exec.api_version));
  exec.command = x["command"].as_string(ew);
  if (exec.command.empty()) x["command"].fail(ew + ": field \"command\": expected a program");
  // client-go: a relative command with a slash is relative to the kubeconfig;
  // a bare name is looked up on PATH.
  if (exec.command.find('/') != std::string::npos && exec.command[0] != '/')
    exec.command = resolve(file, exec.command);
  if (auto args = x["args"]; args.defined()) {
    args.expect_sequence(ew + ": field \"args\"");
    for (size_t i = 0; i < args.size(); ++i)
      exec.args.push_back(args.at(i).as_string(ew + ": field \"args\""));
  }
  if (auto env = x["env"]; env.defined()) {
    env.expect_sequence(ew + ": field \"env\"");
    for (size_t i = 0; i < env.size(); ++i) {
      auto item = env.at(i);
      item.expect_map({"name", "value"}, ew + ": env entry");
      exec.env.emplace_back(item["name"].as_string(ew + ": env entry"),
                            item["value"].as_string(ew + ": env entry"));
    }
  }
  auto mode = x["interactiveMode"];
  if (mode.defined()) {
    exec.interactive_mode = mode.as_string(ew);
    if (exec.interactive_mode != "Never" && exec.interactive_mode != "IfAvailable" &&
        exec.interactive_mode != "Always")
      mode.fail(ew + ": field \"interactiveMode\": expected Never, IfAvailable or Always, got " +
                in_quotes(exec.interactive_mode));
  } else if (exec.api_version == "client.authentication.k8s.io/v1") {
    x.fail(ew +
           ": required field \"interactiveMode\" is missing (v1 requires Never, IfAvailable "
           "or Always)");
  } else {
    exec.interactive_mode = "IfAvailable";  // the v1beta1 default
  }
  return exec;
}

void read_user(const std::string& name, const Entry& e, ClientConfig& c) {
  auto what = "user " + in_quotes(name);
  auto& b = e.body;
  if (!b.defined()) return;  // `user: {}` or null: no credentials
  b.expect_map({"client-certificate", "client-certificate-data", "client-key", "client-key-data",
                "token", "tokenFile", "as", "as-uid", "as-groups", "as-user-extra", "username",
                "password", "auth-provider", "exec", "extensions"},
               what);
  for (const char* key : {"as", "as-uid", "as-groups", "as-user-extra"})
    if (b.has(key))
      b[key].fail(what + ": field " + in_quotes(key) +
                  ": impersonation is not supported (expected credentials of the user itself)");
  for (const char* key : {"username", "password"})
    if (b.has(key))
      b[key].fail(what + ": field " + in_quotes(key) +
                  ": basic authentication is not supported (expected a token, client "
                  "certificate or exec plugin)");
  if (b.has("auth-provider"))
    b["auth-provider"].fail(what +
                            ": field \"auth-provider\": auth providers are not supported "
                            "(expected an exec plugin, e.g. gke-gcloud-auth-plugin or kubelogin)");

  c.client_cert_pem = read_pem(b, what, e.file, "client-certificate", false);
  c.client_key_pem = read_pem(b, what, e.file, "client-key", true);
  if (c.client_cert_pem.empty() != c.client_key_pem.empty())
    b.fail(what + ": client-certificate and client-key must be given together (expected both)");

  if (auto v = b["token"]; v.defined()) c.token = v.as_string(what + ": field \"token\"");
  if (auto v = b["tokenFile"]; v.defined()) {
    c.token_file = resolve(e.file, v.as_string(what + ": field \"tokenFile\""));
    if (!fs::exists(c.token_file))
      v.fail(what + ": field \"tokenFile\": " + c.token_file + " does not exist");
    c.token.clear();  // as in client-go, the (rotating) file wins over a fixed token
  }
  if (auto x = b["exec"]; x.defined()) {
    if (b.has("token") || b.has("tokenFile"))
      x.fail(what +
             ": field \"exec\": cannot be combined with token or tokenFile (expected one "
             "of them)");
    c.exec = read_exec(x, what, e.file, name);
  }
}

}  // namespace

ClientConfig load_kubeconfig(const std::vector<std::string>& files, const std::string& context) {
  if (files.empty()) throw InputError("kubeconfig: no files given");
  Merged m = merge(files);
  auto where = join(files, ":");

  std::string name = context;
  if (name.empty()) {
    if (!m.current_context)
      throw InputError(where +
                       ": no current-context is set (expected current-context or "
                       "--context)");
    name = m.current_context->as_string("current-context");
  }
  auto ctx = m.contexts.find(name);
  if (ctx == m.contexts.end()) {
    std::vector<std::string> names;
    for (const auto& [n, _] : m.contexts) names.push_back(n);
    std::string msg = "context " + in_quotes(name) + " is not defined (expected one of: " +
                      (names.empty() ? "none defined" : join(names, ", ")) + ")";
    if (context.empty()) m.current_context->fail("current-context: " + msg);
    throw InputError(where + ": " + msg);
  }

  ClientConfig c;
  c.context_name = name;
  const auto& cb = ctx->second.body;
  auto cwhat = "context " + in_quotes(name);
  if (!cb.defined()) cb.fail(cwhat + ": the entry has no \"context\" mapping");
  cb.expect_map({"cluster", "user", "namespace", "extensions"}, cwhat);
  auto cluster_name = cb["cluster"].as_string(cwhat);
  auto cluster = m.clusters.find(cluster_name);
  if (cluster == m.clusters.end())
    cb["cluster"].fail(cwhat + ": field \"cluster\": cluster " + in_quotes(cluster_name) +
                       " is not defined in clusters");
  read_cluster(cluster_name, cluster->second, c);

  if (auto u = cb["user"]; u.defined()) {
    auto user_name = u.as_string(cwhat);
    auto user = m.users.find(user_name);
    if (user == m.users.end())
      u.fail(cwhat + ": field \"user\": user " + in_quotes(user_name) + " is not defined in users");
    read_user(user_name, user->second, c);
  }
  if (auto ns = cb["namespace"]; ns.defined() && !ns.as_string(cwhat).empty())
    c.default_namespace = ns.as_string(cwhat);
  return c;
}

ClientConfig load_config(const LoadOptions& options) {
  std::vector<std::string> files;
  std::string tried;
  if (!options.kubeconfig.empty()) {
    if (!fs::exists(options.kubeconfig))
      throw InputError(options.kubeconfig + ": kubeconfig file does not exist (from --kubeconfig)");
    files.push_back(options.kubeconfig);
  } else if (const char* env = std::getenv("KUBECONFIG"); env && *env) {
    // kubectl skips list entries that do not exist.
    std::set<std::string> seen;
    std::stringstream list(env);
    for (std::string item; std::getline(list, item, ':');)
      if (!item.empty() && seen.insert(item).second && fs::exists(item)) files.push_back(item);
    tried = "KUBECONFIG=" + std::string(env);
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    auto path = std::string(home) + "/.kube/config";
    if (fs::exists(path)) files.push_back(path);
    tried = path;
  }

  ClientConfig c;
  if (!files.empty()) {
    c = load_kubeconfig(files, options.context);
  } else if (options.allow_in_cluster && std::getenv("KUBERNETES_SERVICE_HOST")) {
    c = in_cluster_config();
  } else {
    throw InputError("no kubeconfig found" + (tried.empty() ? "" : " (tried " + tried + ")") +
                     ": expected --kubeconfig, $KUBECONFIG or ~/.kube/config" +
                     (options.allow_in_cluster ? ", or running in a cluster" : ""));
  }
  if (!options.namespace_override.empty()) c.default_namespace = options.namespace_override;
  return c;
}

}  // namespace faultline::kube
