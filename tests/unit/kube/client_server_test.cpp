// The client over the real libcurl transport against a local test server
// that produces the faults a real API server will not on demand.
#include <gtest/gtest.h>

#include <thread>

#include <atomic>
#include <filesystem>

#include "runner/common/error.h"
#include "runner/common/parallel.h"
#include "runner/kube/client.h"
#include "tests/unit/kube/test_server.h"

namespace faultline::kube {
namespace {

using faultline::testing::Exchange;
using faultline::testing::TestServer;

const std::string kToken = "tok-0123456789-never-print-me";

ClientConfig config_for(const TestServer& server) {
  ClientConfig c;
  c.server = server.url();
  c.token = kToken;
  c.request_timeout = std::chrono::milliseconds(5000);
  c.max_retries = 3;
  return c;
}

void expect_no_secret(const std::exception& e) {
  EXPECT_EQ(std::string(e.what()).find(kToken), std::string::npos) << e.what();
}

const char* kNode = R"({"kind":"Node","metadata":{"name":"n1"}})";

TEST(ClientServer, TooManyRequestsHonoursRetryAfterThenSucceeds) {
  std::atomic<int> calls{0};
  TestServer server([&](Exchange& ex) {
    if (calls++ == 0)
      ex.status(429, "TooManyRequests", "slow down", {{"Retry-After", "1"}});
    else
      ex.respond(200, kNode);
  });
  Client client(config_for(server));
  EXPECT_EQ(client.get(resources::kNodes, "", "n1")["metadata"]["name"], "n1");
  EXPECT_EQ(server.count("GET", "/api/v1/nodes/n1"), 2u);
  EXPECT_EQ(server.requests().at(0).header("authorization"), "Bearer " + kToken);
  EXPECT_EQ(server.requests().at(0).header("accept"), "application/json");
  EXPECT_EQ(server.requests().at(0).header("user-agent"), "faultline");
}

TEST(ClientServer, ServerErrorStormGivesUpAfterMaxRetriesAndNeverRetriesCreate) {
  TestServer server([&](Exchange& ex) { ex.status(500, "InternalError", "etcd is on fire"); });
  auto c = config_for(server);
  c.max_retries = 3;
  Client client(c);
  try {
    client.list(resources::kPods, "shop");
    FAIL() << "expected ApiError";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ApiError::Kind::ServerError);
    EXPECT_EQ(e.http_status(), 500);
    EXPECT_EQ(std::string(e.what()),
              "list pods: etcd is on fire (HTTP 500 ServerError, InternalError)");
    expect_no_secret(e);
  }
  EXPECT_EQ(server.count("GET", "/api/v1/namespaces/shop/pods"), 4u);  // 1 + 3 retries

  EXPECT_THROW(client.create(resources::kPods, "shop", {{"metadata", {{"name", "p"}}}}), ApiError);
  EXPECT_EQ(server.count("POST"), 1u);
}

TEST(ClientServer, GarbageAndTruncatedJsonAreDecodeErrors) {
  TestServer server([&](Exchange& ex) {
    if (ex.request.path == "/api/v1/nodes/garbage")
      ex.respond(200, "<html>not json</html>");
    else
      ex.respond(200, R"({"kind":"Node","metadata":{"name":"n1","labels":{"a")");
  });
  Client client(config_for(server));
  for (std::string name : {"garbage", "truncated"}) {
    try {
      client.get(resources::kNodes, "", name);
      FAIL() << name;
    } catch (const ApiError& e) {
      EXPECT_EQ(e.kind(), ApiError::Kind::Decode) << e.what();
      EXPECT_EQ(e.name(), name);
      expect_no_secret(e);
    }
  }
  EXPECT_EQ(server.count("GET"), 2u);  // a decode error is not retried
}

TEST(ClientServer, BodyCutMidwayIsATransportErrorAndRetried) {
  std::atomic<int> calls{0};
  TestServer server([&](Exchange& ex) {
    if (calls++ == 0) {
      ex.write_raw(
          "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n"
          "{\"kind\":\"No");
      ex.cut();
    } else {
      ex.respond(200, kNode);
    }
  });
  auto c = config_for(server);
  c.max_retries = 0;
  Client once(c);
  try {
    once.get(resources::kNodes, "", "n1");
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ApiError::Kind::Transport) << e.what();
    EXPECT_EQ(e.http_status(), 0);
    expect_no_secret(e);
  }
  calls = 0;
  Client retrying(config_for(server));
  EXPECT_EQ(retrying.get(resources::kNodes, "", "n1")["metadata"]["name"], "n1");
}

TEST(ClientServer, HangingServerIsATimeoutAndNotRetried) {
  TestServer server([&](Exchange& ex) { ex.hang(); });
  auto c = config_for(server);
  c.request_timeout = std::chrono::milliseconds(300);
  Client client(c);
  try {
    client.get(resources::kNodes, "", "n1");
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ApiError::Kind::Timeout) << e.what();
    EXPECT_EQ(e.verb(), "get");
    EXPECT_NE(std::string(e.what()).find("no response within 300ms"), std::string::npos);
    expect_no_secret(e);
  }
  EXPECT_EQ(server.count("GET"), 1u);
}

TEST(ClientServer, ConnectionRefusedIsATransportError) {
  std::string url;
  {
    TestServer gone([](Exchange& ex) { ex.respond(200, "{}"); });
    url = gone.url();
  }
  ClientConfig c;
  c.server = url;
  c.max_retries = 1;
  Client client(c);
  try {
    client.server_version();
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ApiError::Kind::Transport);
    EXPECT_NE(std::string(e.what()).find("/version"), std::string::npos) << e.what();
  }
}

TEST(ClientServer, RotatedTokenFileIsUsedByTheNextRequest) {
  auto dir = faultline::testing::temp_dir("rotate");
  faultline::testing::write_file(dir + "/token", "first-token-value\n");
  TestServer server([&](Exchange& ex) { ex.respond(200, R"({"gitVersion":"v1"})"); });
  auto c = config_for(server);
  c.token.clear();
  c.token_file = dir + "/token";
  Client client(c);
  client.server_version();
  // kubelet rotates a projected token by swapping a symlinked directory: a
  // new file under the same name.
  faultline::testing::write_file(dir + "/token.new", "second-token-value\n");
  std::filesystem::rename(dir + "/token.new", dir + "/token");
  client.server_version();
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[0].header("authorization"), "Bearer first-token-value");
  EXPECT_EQ(reqs[1].header("authorization"), "Bearer second-token-value");
  std::filesystem::remove_all(dir);
}

// No client-side rate limit: the fan-out's width is what is measured.
ClientConfig unlimited_config_for(const TestServer& server) {
  auto c = config_for(server);
  c.qps = 0;
  return c;
}

// `requests` GETs of node n1, `width` at a time; each must succeed.
void get_node_fanned_out(Client& client, size_t requests, size_t width) {
  std::vector<int> items(requests);
  auto errors = faultline::parallel_for_each<int>(
      items, width, [&](const int&) { client.get(resources::kNodes, "", "n1"); });
  for (auto& e : errors) EXPECT_FALSE(e);
}

TEST(ClientServer, ConnectionsAreReusedAcrossRequestsAndThreads) {
  TestServer server([&](Exchange& ex) { ex.respond(200, kNode); });
  Client client(unlimited_config_for(server));
  get_node_fanned_out(client, 200, 8);
  EXPECT_EQ(server.count("GET"), 200u);
  // 8 workers: at most 8 connections for 200 requests.
  EXPECT_LE(server.connections(), 8u);
}

TEST(ClientServer, AFanOutsConnectionsAreClosedWhenItEndsBarAFewKeptWarm) {
  TestServer server([&](Exchange& ex) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // all 32 in flight at once
    ex.respond(200, kNode);
  });
  Client client(unlimited_config_for(server));
  get_node_fanned_out(client, 320, 32);
  EXPECT_GE(server.connections(), 16u);  // the fan-out did open many
  // The server sees a closed connection when its read ends: give it a moment.
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (server.open_connections() > 8 && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_LE(server.open_connections(), 8u);
  // The ones kept still serve: no new connection for the next requests.
  size_t before = server.connections();
  for (int i = 0; i < 8; ++i) client.get(resources::kNodes, "", "n1");
  EXPECT_EQ(server.connections(), before);
}

TEST(ClientServer, ProxyUrlCarriesTheRequests) {
  // The test server plays an HTTP proxy: it receives the absolute URL. The
  // API server's name is never resolved (the proxy would do that).
  TestServer proxy([&](Exchange& ex) { ex.respond(200, R"({"gitVersion":"via-proxy"})"); });
  ClientConfig c;
  c.server = "http://kube.test:6443";
  c.proxy_url = proxy.url();
  Client client(c);
  EXPECT_EQ(client.server_version()["gitVersion"], "via-proxy");
  ASSERT_EQ(proxy.requests().size(), 1u);
  EXPECT_EQ(proxy.requests()[0].target, "http://kube.test:6443/version");
}

// An exec plugin written at test time: counts its runs, records the exec
// info it was given, prints a credential expiring at $EXPIRES.
class ExecPluginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = faultline::testing::temp_dir("exec");
    plugin_ = dir_ + "/plugin.sh";
    faultline::testing::write_file(
        plugin_,
        "#!/bin/sh\n"
        "dir=$(dirname \"$0\")\n"
        "n=$(( $(cat \"$dir/count\" 2>/dev/null || echo 0) + 1 ))\n"
        "echo $n > \"$dir/count\"\n"
        "printf '%s' \"$KUBERNETES_EXEC_INFO\" > \"$dir/exec-info\"\n"
        "printf '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
        "\"status\":{\"token\":\"exec-token-%s\",\"expirationTimestamp\":\"%s\"}}' \"$n\" "
        "\"$EXPIRES\"\n");
    std::filesystem::permissions(plugin_, std::filesystem::perms::owner_all);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  ClientConfig config(const TestServer& server, const std::string& expires) {
    ClientConfig c;
    c.server = server.url();
    ExecConfig exec;
    exec.api_version = "client.authentication.k8s.io/v1";
    exec.command = plugin_;
    exec.env = {{"EXPIRES", expires}};
    exec.interactive_mode = "Never";
    exec.source = "test kubeconfig user \"exec\"";
    c.exec = exec;
    return c;
  }
  int runs() { return std::stoi(faultline::testing::read_file(dir_ + "/count")); }

  std::string dir_, plugin_;
};

TEST_F(ExecPluginTest, ValidCredentialIsCached) {
  TestServer server([&](Exchange& ex) { ex.respond(200, "{}"); });
  Client client(config(server, "2999-01-01T00:00:00Z"));
  client.server_version();
  client.server_version();
  EXPECT_EQ(runs(), 1);
  EXPECT_EQ(server.requests().at(1).header("authorization"), "Bearer exec-token-1");
  auto info = json::parse(faultline::testing::read_file(dir_ + "/exec-info"));
  EXPECT_EQ(info["apiVersion"], "client.authentication.k8s.io/v1");
  EXPECT_EQ(info["kind"], "ExecCredential");
  EXPECT_EQ(info["spec"]["interactive"], false);
}

TEST_F(ExecPluginTest, ExpiredCredentialReRunsThePlugin) {
  TestServer server([&](Exchange& ex) { ex.respond(200, "{}"); });
  Client client(config(server, "2001-01-01T00:00:00Z"));
  client.server_version();
  client.server_version();
  EXPECT_EQ(runs(), 2);
  auto reqs = server.requests();
  EXPECT_EQ(reqs.at(0).header("authorization"), "Bearer exec-token-1");
  EXPECT_EQ(reqs.at(1).header("authorization"), "Bearer exec-token-2");
}

// A plugin that takes seconds (an SSO round trip) must not hold up another
// thread's request while a credential is at hand: the drill lock's renewal
// would otherwise wait for it and the lease expire under a live drill.
TEST_F(ExecPluginTest, SlowRefreshDoesNotBlockOtherRequestsThatHaveACredential) {
  TestServer server([&](Exchange& ex) { ex.respond(200, "{}"); });
  Client client(config(server, "2001-01-01T00:00:00Z"));  // always expired
  client.server_version();                                // exec-token-1, fast
  std::string slow = faultline::testing::read_file(plugin_);
  slow.insert(slow.find('\n') + 1, "sleep 3\n");
  faultline::testing::write_file(plugin_, slow);
  std::thread refresher([&] { client.server_version(); });  // runs the slow plugin
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto started = std::chrono::steady_clock::now();
  client.server_version();
  auto waited = std::chrono::steady_clock::now() - started;
  refresher.join();
  EXPECT_LT(waited, std::chrono::milliseconds(1500));
  EXPECT_EQ(server.requests().at(1).header("authorization"), "Bearer exec-token-1");
  EXPECT_EQ(runs(), 2);
}

TEST_F(ExecPluginTest, UnauthorizedReRunsThePluginOnce) {
  TestServer server([&](Exchange& ex) {
    if (ex.request.header("authorization") == "Bearer exec-token-1")
      ex.status(401, "Unauthorized", "token revoked");
    else
      ex.respond(200, "{}");
  });
  Client client(config(server, "2999-01-01T00:00:00Z"));
  client.create(resources::kConfigMaps, "default", {{"metadata", {{"name", "x"}}}});
  EXPECT_EQ(runs(), 2);
  EXPECT_EQ(server.count("POST"), 2u);  // a 401 was not processed: safe even for create
}

TEST_F(ExecPluginTest, PersistentUnauthorizedSurfacesWithoutTheToken) {
  TestServer server([&](Exchange& ex) {
    ex.status(401, "Unauthorized", "no: " + ex.request.header("authorization"));
  });
  Client client(config(server, "2999-01-01T00:00:00Z"));
  try {
    client.server_version();
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ApiError::Kind::Unauthorized);
    std::string what = e.what();
    EXPECT_EQ(what.find("exec-token-"), std::string::npos) << what;
  }
  EXPECT_EQ(runs(), 2);  // re-run once, not in a loop
}

TEST_F(ExecPluginTest, FailingOrMissingPluginIsAClearError) {
  TestServer server([&](Exchange& ex) { ex.respond(200, "{}"); });
  auto c = config(server, "x");
  faultline::testing::write_file(plugin_, "#!/bin/sh\necho 'plugin: no SSO session' >&2\nexit 3\n");
  try {
    Client(c).server_version();
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(std::string(e.what()),
              "get version: exec plugin \"" + plugin_ +
                  "\" (test kubeconfig user \"exec\"): exited with status 3 (its error output is "
                  "above) (Unauthorized)");
  }
  c.exec->command = dir_ + "/not-installed";
  try {
    Client(c).server_version();
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(std::string(e.what()),
              "exec plugin \"" + dir_ +
                  "/not-installed\" (test kubeconfig user \"exec\"): cannot run it: No such file "
                  "or directory (expected the plugin installed and on PATH)");
  }
  EXPECT_EQ(server.count("GET"), 0u);
}

}  // namespace
}  // namespace faultline::kube
