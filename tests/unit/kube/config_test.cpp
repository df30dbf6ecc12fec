#include <gtest/gtest.h>

#include <filesystem>

#include "runner/common/error.h"
#include "runner/kube/base64.h"
#include "runner/kube/config.h"
#include "tests/unit/kube/env_guard.h"
#include "tests/unit/kube/test_server.h"

namespace faultline::kube {
namespace {

using faultline::testing::EnvGuard;
using faultline::testing::write_file;

const std::string kCaPem =
    "-----BEGIN CERTIFICATE-----\nTUlJQ0NBLXRlc3Q=\n-----END CERTIFICATE-----\n";
// Split so the source holds no key-looking literal; the body is base64 of
// "secret-key-body", a marker the tests check never reaches a message.
const std::string kKeyPem =
    "-----BEGIN " "PRIVATE KEY-----\nc2VjcmV0LWtleS1ib2R5\n-----END " "PRIVATE KEY-----\n";

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = faultline::testing::temp_dir("config"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string file(const std::string& name, const std::string& text) {
    auto path = dir_ + "/" + name;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    write_file(path, text);
    return path;
  }

  // The InputError message load_kubeconfig throws for this text.
  std::string error_for(const std::string& text, const std::string& context = "") {
    auto path = file("config", text);
    try {
      load_kubeconfig({path}, context);
    } catch (const InputError& e) {
      std::string msg = e.what();
      // Tests compare messages with the temp dir written as "DIR".
      for (size_t at; (at = msg.find(dir_)) != std::string::npos;)
        msg.replace(at, dir_.size(), "DIR");
      return msg;
    }
    ADD_FAILURE() << "no InputError for:\n" << text;
    return "";
  }

  std::string dir_;
};

std::string minimal(const std::string& cluster_extra, const std::string& user_body) {
  return "apiVersion: v1\n"
         "kind: Config\n"
         "clusters:\n"
         "- name: dev\n"
         "  cluster:\n"
         "    server: https://127.0.0.1:6443\n" +
         cluster_extra +
         "users:\n"
         "- name: admin\n"
         "  user:\n" +
         user_body +
         "contexts:\n"
         "- name: dev\n"
         "  context: {cluster: dev, user: admin, namespace: shop}\n"
         "current-context: dev\n";
}

TEST_F(ConfigTest, LoadKubeconfig_ReadsClusterUserAndContext) {
  file("pki/ca.crt", kCaPem);
  auto path = file("config", minimal("    certificate-authority: pki/ca.crt\n"
                                     "    tls-server-name: kubernetes\n"
                                     "    proxy-url: http://127.0.0.1:3128\n",
                                     "    client-certificate-data: " + base64_encode(kCaPem) +
                                         "\n"
                                         "    client-key-data: " +
                                         base64_encode(kKeyPem) + "\n"));
  auto c = load_kubeconfig({path}, "");
  EXPECT_EQ(c.server, "https://127.0.0.1:6443");
  EXPECT_EQ(c.context_name, "dev");
  EXPECT_EQ(c.cluster_name, "dev");
  EXPECT_EQ(c.default_namespace, "shop");
  EXPECT_EQ(c.ca_pem, kCaPem);
  EXPECT_EQ(c.tls_server_name, "kubernetes");
  EXPECT_EQ(c.proxy_url, "http://127.0.0.1:3128");
  EXPECT_EQ(c.client_cert_pem, kCaPem);
  EXPECT_EQ(c.client_key_pem, kKeyPem);
  EXPECT_FALSE(c.insecure_skip_tls_verify);
  EXPECT_TRUE(c.token.empty());
  EXPECT_FALSE(c.exec.has_value());
}

TEST_F(ConfigTest, LoadKubeconfig_RelativePathsResolveAgainstTheKubeconfigDirectory) {
  file("nested/token", "abc\n");
  file("nested/bin/plugin", "#!/bin/sh\n");
  auto path = file("nested/config",
                   minimal("    insecure-skip-tls-verify: true\n", "    tokenFile: token\n"));
  auto c = load_kubeconfig({path}, "");
  EXPECT_EQ(c.token_file, dir_ + "/nested/token");
  EXPECT_TRUE(c.insecure_skip_tls_verify);

  auto exec_path =
      file("nested/exec-config", minimal("",
                                         "    exec:\n"
                                         "      apiVersion: client.authentication.k8s.io/v1\n"
                                         "      command: ./bin/plugin\n"
                                         "      args: [get-token, --cluster, dev]\n"
                                         "      env: [{name: REGION, value: eu-west-1}]\n"
                                         "      interactiveMode: Never\n"));
  auto e = load_kubeconfig({exec_path}, "");
  ASSERT_TRUE(e.exec.has_value());
  EXPECT_EQ(e.exec->command, dir_ + "/nested/bin/plugin");
  EXPECT_EQ(e.exec->args, (std::vector<std::string>{"get-token", "--cluster", "dev"}));
  ASSERT_EQ(e.exec->env.size(), 1u);
  EXPECT_EQ(e.exec->env[0].first, "REGION");
  EXPECT_EQ(e.exec->env[0].second, "eu-west-1");
  EXPECT_EQ(e.exec->interactive_mode, "Never");
  EXPECT_EQ(e.exec->source, exec_path + " user \"admin\"");
}

TEST_F(ConfigTest, LoadKubeconfig_BareExecCommandIsLookedUpOnPath) {
  auto path = file("config", minimal("",
                                     "    exec:\n"
                                     "      apiVersion: client.authentication.k8s.io/v1beta1\n"
                                     "      command: aws\n"));
  auto c = load_kubeconfig({path}, "");
  ASSERT_TRUE(c.exec.has_value());
  EXPECT_EQ(c.exec->command, "aws");
  EXPECT_EQ(c.exec->interactive_mode, "IfAvailable");  // the v1beta1 default
}

TEST_F(ConfigTest, KubeconfigMerge_FirstFileToSetAKeyWins) {
  auto a = file("a",
                "clusters:\n"
                "- name: shared\n"
                "  cluster: {server: 'https://a.example:6443', insecure-skip-tls-verify: true}\n"
                "contexts:\n"
                "- name: a-ctx\n"
                "  context: {cluster: shared}\n"
                "current-context: a-ctx\n");
  auto b = file("b",
                "clusters:\n"
                "- name: shared\n"
                "  cluster: {server: 'https://b.example:6443'}\n"
                "- name: only-b\n"
                "  cluster: {server: 'https://only-b.example:6443'}\n"
                "users:\n"
                "- name: b-user\n"
                "  user: {token: b-token-value}\n"
                "contexts:\n"
                "- name: b-ctx\n"
                "  context: {cluster: shared, user: b-user, namespace: b-ns}\n"
                "- name: b-only\n"
                "  context: {cluster: only-b}\n"
                "current-context: b-ctx\n");
  EnvGuard env;
  env.set("KUBECONFIG", a + ":" + dir_ + "/missing:" + b);
  env.unset("KUBERNETES_SERVICE_HOST");
  auto c = load_config({});
  EXPECT_EQ(c.context_name, "a-ctx");  // a's current-context wins
  EXPECT_EQ(c.server, "https://a.example:6443");
  EXPECT_EQ(c.default_namespace, "default");

  LoadOptions o;
  o.context = "b-ctx";
  auto cb = load_config(o);
  EXPECT_EQ(cb.server, "https://a.example:6443");  // "shared" comes from a
  EXPECT_EQ(cb.token, "b-token-value");
  EXPECT_EQ(cb.default_namespace, "b-ns");

  o.context = "b-only";
  o.namespace_override = "override";
  auto cbo = load_config(o);
  EXPECT_EQ(cbo.server, "https://only-b.example:6443");
  EXPECT_EQ(cbo.default_namespace, "override");
}

TEST_F(ConfigTest, LoadConfig_ExplicitKubeconfigBeatsEnvironment) {
  auto a = file("a", minimal("    insecure-skip-tls-verify: true\n", "    token: tok\n"));
  EnvGuard env;
  env.set("KUBECONFIG", dir_ + "/does-not-exist");
  LoadOptions o;
  o.kubeconfig = a;
  EXPECT_EQ(load_config(o).server, "https://127.0.0.1:6443");
  o.kubeconfig = dir_ + "/nope";
  try {
    load_config(o);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              dir_ + "/nope: kubeconfig file does not exist (from --kubeconfig)");
  }
}

TEST_F(ConfigTest, LoadConfig_NoKubeconfigAndNoClusterIsAClearError) {
  EnvGuard env;
  env.unset("KUBECONFIG");
  env.set("HOME", dir_);
  env.unset("KUBERNETES_SERVICE_HOST");
  try {
    load_config({});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "no kubeconfig found (tried " + dir_ +
                  "/.kube/config): expected --kubeconfig, $KUBECONFIG or ~/.kube/config, or "
                  "running in a cluster");
  }
}

TEST_F(ConfigTest, LoadConfig_FallsBackToInClusterWhenAllowed) {
  EnvGuard env;
  env.unset("KUBECONFIG");
  env.set("HOME", dir_);
  env.set("KUBERNETES_SERVICE_HOST", "127.0.0.1");
  env.set("KUBERNETES_SERVICE_PORT", "6443");
  // The real service-account directory does not exist here: the error shows
  // the fallback was taken.
  try {
    load_config({});
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "/var/run/secrets/kubernetes.io/serviceaccount/token: service account token is "
              "missing (expected a mounted token; is automountServiceAccountToken false?)");
  }
  LoadOptions o;
  o.allow_in_cluster = false;
  EXPECT_THROW(load_config(o), InputError);
}

TEST_F(ConfigTest, InClusterConfig_ReadsTheServiceAccountDirectory) {
  file("sa/token", "sa-token-value\n");
  file("sa/ca.crt", kCaPem);
  file("sa/namespace", "faultline\n");
  EnvGuard env;
  env.set("KUBERNETES_SERVICE_HOST", "10.96.0.1");
  env.set("KUBERNETES_SERVICE_PORT", "443");
  auto c = in_cluster_config(dir_ + "/sa");
  EXPECT_EQ(c.server, "https://10.96.0.1:443");
  EXPECT_EQ(c.token_file, dir_ + "/sa/token");
  EXPECT_TRUE(c.token.empty());  // read (and re-read) from the file
  EXPECT_EQ(c.ca_pem, kCaPem);
  EXPECT_EQ(c.default_namespace, "faultline");

  env.set("KUBERNETES_SERVICE_HOST", "fd00::1");
  EXPECT_EQ(in_cluster_config(dir_ + "/sa").server, "https://[fd00::1]:443");

  env.unset("KUBERNETES_SERVICE_PORT");
  try {
    in_cluster_config(dir_ + "/sa");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be "
              "set (expected to run in a pod)");
  }
}

TEST_F(ConfigTest, Errors_NameFileLineFieldAndExpectation) {
  EXPECT_EQ(error_for("clusters:\n- name: dev\n  cluster:\n    insecure-skip-tls-verify: true\n"
                      "contexts:\n- name: dev\n  context: {cluster: dev}\ncurrent-context: dev\n"),
            "DIR/config:4:5: cluster \"dev\": required field \"server\" is missing");
}

TEST_F(ConfigTest, Errors_ExactMessages) {
  struct Case {
    std::string text, context, message;
  };
  std::vector<Case> cases = {
      {"clusters: [\n", "", "DIR/config:2:1: invalid YAML: end of sequence flow not found"},
      {"clusters:\n- name: dev\n  cluster: {server: 'ftp://x'}\ncontexts:\n- name: dev\n"
       "  context: {cluster: dev}\ncurrent-context: dev\n",
       "",
       "DIR/config:3:21: cluster \"dev\": field \"server\": expected a URL like "
       "https://host:6443, got \"ftp://x\""},
      {minimal("    certificate-authority-data: not*base64\n", ""), "",
       "DIR/config:7:33: cluster \"dev\": field \"certificate-authority-data\": expected base64 "
       "of a PEM certificate"},
      {minimal("    certificate-authority: missing/ca.crt\n", ""), "",
       "DIR/config:7:28: cluster \"dev\": field \"certificate-authority\": cannot read "
       "DIR/missing/ca.crt: No such file or directory"},
      {minimal("    certificate-authority-data: " + base64_encode(kCaPem) +
                   "\n    insecure-skip-tls-verify: true\n",
               ""),
       "",
       "DIR/config:8:31: cluster \"dev\": field \"insecure-skip-tls-verify\": cannot be true "
       "together with certificate-authority(-data) (expected one or the other)"},
      {minimal("    insecure-skip-tls-verify: yes please\n", ""), "",
       "DIR/config:7:31: cluster \"dev\": field \"insecure-skip-tls-verify\": expected true or "
       "false, got \"yes please\""},
      {minimal("", "    tokenfile: /tmp/token\n"), "",
       "DIR/config:10:5: unknown field \"tokenfile\" in user \"admin\" (expected one of: "
       "client-certificate, client-certificate-data, client-key, client-key-data, token, "
       "tokenFile, as, as-uid, as-groups, as-user-extra, username, password, auth-provider, "
       "exec, extensions)"},
      {minimal("", "    client-certificate-data: " + base64_encode(kCaPem) + "\n"), "",
       "DIR/config:10:5: user \"admin\": client-certificate and client-key must be given "
       "together (expected both)"},
      {minimal("", "    as: someone-else\n    token: t\n"), "",
       "DIR/config:10:9: user \"admin\": field \"as\": impersonation is not supported (expected "
       "credentials of the user itself)"},
      {minimal("", "    auth-provider: {name: gcp}\n"), "",
       "DIR/config:10:20: user \"admin\": field \"auth-provider\": auth providers are not "
       "supported (expected an exec plugin, e.g. gke-gcloud-auth-plugin or kubelogin)"},
      {minimal("",
               "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n"
               "      command: aws\n"),
       "",
       "DIR/config:11:7: user \"admin\": exec: required field \"interactiveMode\" is missing "
       "(v1 requires Never, IfAvailable or Always)"},
      {minimal("",
               "    exec:\n      apiVersion: client.authentication.k8s.io/v1alpha1\n"
               "      command: aws\n"),
       "",
       "DIR/config:11:19: user \"admin\": exec: field \"apiVersion\": expected "
       "client.authentication.k8s.io/v1 or client.authentication.k8s.io/v1beta1, got "
       "\"client.authentication.k8s.io/v1alpha1\""},
      {minimal("",
               "    token: t\n    exec: {apiVersion: client.authentication.k8s.io/v1beta1, "
               "command: aws}\n"),
       "",
       "DIR/config:11:11: user \"admin\": field \"exec\": cannot be combined with token or "
       "tokenFile (expected one of them)"},
      {minimal("", "    token: t\n"), "nope",
       "DIR/config: context \"nope\" is not defined (expected one of: dev)"},
      {"clusters: []\ncontexts: []\ncurrent-context: gone\n", "",
       "DIR/config:3:18: current-context: context \"gone\" is not defined (expected one of: "
       "none defined)"},
      {"clusters: []\n", "",
       "DIR/config: no current-context is set (expected current-context or --context)"},
      {"contexts:\n- name: dev\n  context: {cluster: nowhere}\ncurrent-context: dev\n", "",
       "DIR/config:3:22: context \"dev\": field \"cluster\": cluster \"nowhere\" is not defined "
       "in clusters"},
      {"kind: Pod\n", "", "DIR/config:1:7: field \"kind\": expected Config, got \"Pod\""},
  };
  for (const auto& c : cases) EXPECT_EQ(error_for(c.text, c.context), c.message) << c.text;
}

TEST_F(ConfigTest, Errors_NeverContainSecretMaterial) {
  const std::string secret = "s3cr3t-key-material-do-not-print";
  auto not_pem = base64_encode(secret);
  auto msg = error_for(minimal("", "    client-certificate-data: " + base64_encode(kCaPem) +
                                       "\n    client-key-data: " + not_pem + "\n"));
  EXPECT_EQ(msg,
            "DIR/config:11:22: user \"admin\": field \"client-key-data\": expected base64 of "
            "a PEM private key (decoded data is not PEM)");
  EXPECT_EQ(msg.find(secret), std::string::npos);
  EXPECT_EQ(msg.find(not_pem), std::string::npos);

  file("key.pem", secret);
  msg = error_for(minimal(
      "", "    client-certificate-data: " + base64_encode(kCaPem) + "\n    client-key: key.pem\n"));
  EXPECT_EQ(msg,
            "DIR/config:11:17: user \"admin\": field \"client-key\": DIR/key.pem is not a PEM "
            "private key");
  EXPECT_EQ(msg.find(secret), std::string::npos);
}

}  // namespace
}  // namespace faultline::kube
