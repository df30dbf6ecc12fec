// The client's logic over a fake transport: pagination, idempotency and
// retries, request bodies, credentials and error text.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "runner/kube/client.h"
#include "runner/kube/client_state.h"
#include "tests/unit/kube/fake_transport.h"
#include "tests/unit/kube/test_server.h"

namespace faultline::kube {
namespace {

using faultline::testing::FakeTransport;

ClientConfig config() {
  ClientConfig c;
  c.server = "https://127.0.0.1:1";
  c.qps = 0;  // no client-side limit in logic tests
  c.max_retries = 3;
  return c;
}

HttpResponse transport_error(const HttpRequest&) {
  throw ApiError(ApiError::Kind::Transport, 0, "", "", "", "Connection reset by peer");
}

std::string query_of(const HttpRequest& r) {
  auto q = r.path.find('?');
  return q == std::string::npos ? "" : r.path.substr(q + 1);
}

TEST(ClientList, FollowsContinueTokensAndMergesPages) {
  auto fake = std::make_shared<FakeTransport>();
  fake->on(
      "GET", "/api/v1/namespaces/shop/pods", 200,
      R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"5","continue":"c1"},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]})");
  fake->on(
      "GET", "/api/v1/namespaces/shop/pods", 200,
      R"({"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"5"},"items":[{"metadata":{"name":"c"}}]})");
  Client client(config(), fake);
  ListOptions o;
  o.label_selector = "app=web";
  o.field_selector = "spec.nodeName=zone-a-1";
  o.limit = 2;
  o.resource_version = "0";
  auto list = client.list(resources::kPods, "shop", o);
  ASSERT_EQ(list["items"].size(), 3u);
  EXPECT_EQ(list["items"][2]["metadata"]["name"], "c");
  EXPECT_EQ(list["metadata"]["resourceVersion"], "5");
  EXPECT_EQ(list["kind"], "PodList");
  auto sent = fake->sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(query_of(sent[0]),
            "labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3Dzone-a-1&limit=2&"
            "resourceVersion=0");
  // resourceVersion may not accompany continue.
  EXPECT_EQ(query_of(sent[1]),
            "labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3Dzone-a-1&limit=2&continue=c1");
}

// ListOptions::project: each item is projected as its page is decoded, and
// managedFields (most of a pod) is not even parsed; without it, items are
// whole.
TEST(ClientList, AProjectingCallerGetsProjectedItemsWithoutManagedFields) {
  auto fake = std::make_shared<FakeTransport>();
  fake->on(
      "GET", "/api/v1/namespaces/shop/pods", 200,
      R"({"metadata":{"resourceVersion":"5"},"items":[{"metadata":{"name":"a","managedFields":[{"manager":"kubelet"}]},"spec":{"nodeName":"n1","containers":[{"name":"c"}]}}]})");
  Client client(config(), fake);
  ListOptions o;
  int projected = 0;
  o.project = [&](nlohmann::json& item) {
    EXPECT_FALSE(item["metadata"].contains("managedFields"));
    item["spec"].erase("containers");
    ++projected;
  };
  auto items = client.list(resources::kPods, "shop", o)["items"];
  EXPECT_EQ(projected, 1);
  EXPECT_EQ(items[0]["spec"], nlohmann::json({{"nodeName", "n1"}}));
  auto whole = client.list(resources::kPods, "shop")["items"];
  EXPECT_TRUE(whole[0]["metadata"].contains("managedFields"));
}

// Items are projected while their page is parsed (so a page's DOM never
// holds more than one whole item): exactly the list's items, once each, in
// order, never the list's own metadata nor an object nested in an item, even
// one under a key named "items".
TEST(ClientList, ParseProjectedListProjectsEachTopLevelItemOnce) {
  std::vector<std::string> seen;
  auto page = faultline::kube::parse_projected_list(
      R"({"metadata":{"continue":"c","x":{"y":1}},"items":[)"
      R"({"metadata":{"name":"a","managedFields":[{"m":1}]},"spec":{"items":[{"name":"inner"}]}},)"
      R"({"metadata":{"name":"b"}}]})",
      [&](nlohmann::json& item) {
        seen.push_back(item["metadata"].value("name", "?"));
        item.erase("spec");
        item["projected"] = true;
      });
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(page["items"][0],
            nlohmann::json::parse(R"({"metadata":{"name":"a"},"projected":true})"));
  EXPECT_EQ(page["metadata"]["x"]["y"], 1);
}

// list_each: a page at a time (what a watch's relist uses, so 10k pods are
// never one DOM); stopping ends the listing without reading further pages.
TEST(ClientList, ListEachGoesPageByPageAndStopsWhenAsked) {
  auto pages = [] {
    auto fake = std::make_shared<FakeTransport>();
    fake->on(
        "GET", "/api/v1/namespaces/shop/pods", 200,
        R"({"kind":"PodList","metadata":{"resourceVersion":"5","continue":"c1"},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]})");
    fake->on("GET", "/api/v1/namespaces/shop/pods", 200,
             R"({"metadata":{"resourceVersion":"5"},"items":[{"metadata":{"name":"c"}}]})");
    return fake;
  };
  auto fake = pages();
  Client client(config(), fake);
  std::vector<std::string> seen;
  auto meta = client.list_each(resources::kPods, "shop", {}, [&](nlohmann::json& item) {
    seen.push_back(item["metadata"]["name"]);
    return true;
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(meta["resourceVersion"], "5");
  EXPECT_EQ(meta["kind"], "PodList");
  EXPECT_EQ(fake->sent().size(), 2u);

  auto stopped = pages();
  Client client2(config(), stopped);
  client2.list_each(resources::kPods, "shop", {}, [&](nlohmann::json&) { return false; });
  EXPECT_EQ(stopped->sent().size(), 1u);  // the second page was never asked for
}

TEST(ClientList, ExpiredContinueTokenFallsBackToOneFullList) {
  auto fake = std::make_shared<FakeTransport>();
  const std::string path = "/api/v1/nodes";
  fake->on("GET", path, 200,
           R"({"metadata":{"continue":"c1"},"items":[{"metadata":{"name":"a"}}]})");
  fake->on("GET", path, 410,
           R"({"kind":"Status","reason":"Expired","message":"continue expired","code":410})");
  fake->on(
      "GET", path, 200,
      R"({"metadata":{"resourceVersion":"9"},"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]})");
  Client client(config(), fake);
  ListOptions o;
  o.limit = 1;
  auto list = client.list(resources::kNodes, "", o);
  EXPECT_EQ(list["items"].size(), 2u);  // not 3: the first page was dropped
  auto sent = fake->sent();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(query_of(sent[2]), "");  // no limit, no continue
}

TEST(ClientRetry, IdempotentGetRetriesServerErrorsThenGivesUp) {
  auto fake = std::make_shared<FakeTransport>();
  fake->on("GET", "/api/v1/nodes/n1", 503,
           R"({"kind":"Status","message":"unavailable","code":503})");
  auto c = config();
  c.max_retries = 2;
  Client client(c, fake);
  try {
    client.get(resources::kNodes, "", "n1");
    FAIL() << "expected ApiError";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ApiError::Kind::ServerError);
    EXPECT_EQ(e.verb(), "get");
    EXPECT_EQ(e.resource(), "nodes");
    EXPECT_EQ(e.name(), "n1");
  }
  EXPECT_EQ(fake->count("GET", "/api/v1/nodes/n1"), 3u);
}

TEST(ClientRetry, TransportErrorThenSuccess) {
  auto fake = std::make_shared<FakeTransport>();
  fake->on("GET", "/api/v1/nodes/n1", transport_error);
  fake->on("GET", "/api/v1/nodes/n1", 200, R"({"metadata":{"name":"n1"}})");
  Client client(config(), fake);
  EXPECT_EQ(client.get(resources::kNodes, "", "n1")["metadata"]["name"], "n1");
  EXPECT_EQ(fake->count("GET", "/api/v1/nodes/n1"), 2u);
}

TEST(ClientRetry, CreateIsNeverRetried) {
  auto fake = std::make_shared<FakeTransport>();
  fake->on("POST", "/api/v1/namespaces/shop/configmaps", 500,
           R"({"kind":"Status","message":"boom","code":500})");
  fake->on("POST", "/apis/apps/v1/namespaces/shop/deployments", transport_error);
  Client client(config(), fake);
  try {
    client.create(resources::kConfigMaps, "shop", {{"metadata", {{"name", "cm"}}}});
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ApiError::Kind::ServerError);
    EXPECT_EQ(std::string(e.what()), "create configmaps \"cm\": boom (HTTP 500 ServerError)");
  }
  EXPECT_THROW(client.create(resources::kDeployments, "shop", {{"metadata", {{"name", "d"}}}}),
               ApiError);
  EXPECT_EQ(fake->count("POST", "/api/v1/namespaces/shop/configmaps"), 1u);
  EXPECT_EQ(fake->count("POST", "/apis/apps/v1/namespaces/shop/deployments"), 1u);
}

TEST(ClientEvict, SendsPolicyV1EvictionAndSurfacesPdb429WithoutRetry) {
  auto fake = std::make_shared<FakeTransport>();
  const std::string path = "/api/v1/namespaces/shop/pods/web-1/eviction";
  fake->on(
      "POST", path, 429,
      R"({"kind":"Status","message":"Cannot evict pod as it would violate the pod's disruption budget.","reason":"TooManyRequests","code":429})");
  Client client(config(), fake);
  DeleteOptions o;
  o.grace_period_seconds = 0;
  try {
    client.evict("shop", "web-1", o);
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ApiError::Kind::TooManyRequests);
    EXPECT_EQ(e.verb(), "evict");
    EXPECT_FALSE(e.retry_after_seconds().has_value());
  }
  auto sent = fake->sent();
  ASSERT_EQ(sent.size(), 1u);
  auto body = json::parse(sent[0].body);
  EXPECT_EQ(body["apiVersion"], "policy/v1");
  EXPECT_EQ(body["kind"], "Eviction");
  EXPECT_EQ(body["metadata"]["name"], "web-1");
  EXPECT_EQ(body["metadata"]["namespace"], "shop");
  EXPECT_EQ(body["deleteOptions"]["gracePeriodSeconds"], 0);
  EXPECT_EQ(sent[0].headers.at("Content-Type"), "application/json");
}

TEST(ClientPatch, ContentTypesAndWhichPatchesAreRetried) {
  auto fake = std::make_shared<FakeTransport>();
  const std::string path = "/api/v1/nodes/n1";
  fake->on("PATCH", path, 500, R"({"kind":"Status","message":"boom","code":500})");
  auto c = config();
  c.max_retries = 1;
  Client client(c, fake);
  EXPECT_THROW(client.patch(resources::kNodes, "", "n1", {{"spec", {{"unschedulable", true}}}}),
               ApiError);
  EXPECT_THROW(client.patch(resources::kNodes, "", "n1", {{"spec", {{"unschedulable", true}}}},
                            PatchType::StrategicMerge),
               ApiError);
  // A JSON patch that appends is not safe to repeat; one of replace/test is.
  EXPECT_THROW(client.patch(resources::kNodes, "", "n1",
                            json::parse(R"([{"op":"add","path":"/spec/taints/-","value":{}}])"),
                            PatchType::Json),
               ApiError);
  EXPECT_THROW(
      client.patch(
          resources::kNodes, "", "n1",
          json::parse(
              R"([{"op":"test","path":"/spec/unschedulable","value":false},{"op":"replace","path":"/spec/unschedulable","value":true}])"),
          PatchType::Json),
      ApiError);
  auto sent = fake->sent();
  ASSERT_EQ(sent.size(), 2u + 2u + 1u + 2u);
  EXPECT_EQ(sent[0].headers.at("Content-Type"), "application/merge-patch+json");
  EXPECT_EQ(sent[2].headers.at("Content-Type"), "application/strategic-merge-patch+json");
  EXPECT_EQ(sent[4].headers.at("Content-Type"), "application/json-patch+json");
  EXPECT_EQ(sent[4].body, R"([{"op":"add","path":"/spec/taints/-","value":{}}])");
}

TEST(ClientReplace, RetriedOnlyWhenGuardedByResourceVersion) {
  auto fake = std::make_shared<FakeTransport>();
  fake->on("PUT", "/api/v1/namespaces/shop/configmaps/cm", 503, "{}");
  auto c = config();
  c.max_retries = 1;
  Client client(c, fake);
  EXPECT_THROW(
      client.replace(resources::kConfigMaps, "shop", "cm", {{"metadata", {{"name", "cm"}}}}),
      ApiError);
  EXPECT_EQ(fake->count("PUT", "/api/v1/namespaces/shop/configmaps/cm"), 1u);
  EXPECT_THROW(client.replace(resources::kConfigMaps, "shop", "cm",
                              {{"metadata", {{"name", "cm"}, {"resourceVersion", "7"}}}}),
               ApiError);
  EXPECT_EQ(fake->count("PUT", "/api/v1/namespaces/shop/configmaps/cm"), 3u);
}

TEST(ClientDelete, SendsDeleteOptionsAndTreatsNotFoundAfterLostAnswerAsDone) {
  auto fake = std::make_shared<FakeTransport>();
  const std::string path = "/api/v1/namespaces/shop/pods/p";
  fake->on("DELETE", path, transport_error);
  fake->on("DELETE", path, 404,
           R"({"kind":"Status","reason":"NotFound","message":"pods \"p\" not found","code":404})");
  Client client(config(), fake);
  DeleteOptions o;
  o.grace_period_seconds = 5;
  o.propagation_policy = "Foreground";
  o.precondition_uid = "uid-1";
  o.precondition_resource_version = "42";
  o.dry_run = true;
  client.remove(resources::kPods, "shop", "p", o);  // our first attempt deleted it
  auto sent = fake->sent();
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(json::parse(sent[0].body),
            json::parse(R"({"gracePeriodSeconds":5,"propagationPolicy":"Foreground",
                            "preconditions":{"uid":"uid-1","resourceVersion":"42"},
                            "dryRun":["All"]})"));

  // A first answer of 404 is a real NotFound.
  try {
    client.remove(resources::kPods, "shop", "p");
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ApiError::Kind::NotFound);
  }
  EXPECT_EQ(fake->sent().back().body, "");  // no options: no body
}

TEST(ClientErrors, DecodeErrorsNeverQuoteTheBody) {
  auto fake = std::make_shared<FakeTransport>();
  fake->on("GET", "/api/v1/nodes/n1", 200, "{\"metadata\": secret-looking-garbage");
  Client client(config(), fake);
  try {
    client.get(resources::kNodes, "", "n1");
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ApiError::Kind::Decode);
    EXPECT_EQ(std::string(e.what()),
              "get nodes \"n1\": response is not valid JSON (error at byte 14 of 35) (HTTP 200 "
              "Decode)");
  }
}

TEST(ClientCredentials, BearerTokenIsSentAndScrubbedFromErrors) {
  const std::string token = "super-secret-token-123456";
  auto fake = std::make_shared<FakeTransport>();
  fake->on("GET", "/api/v1/nodes/n1", [&](const HttpRequest& r) {
    // A misbehaving proxy echoing the request headers back.
    return HttpResponse{403,
                        {},
                        R"({"kind":"Status","message":"denied for )" +
                            r.headers.at("Authorization") + R"(","code":403})",
                        false};
  });
  auto c = config();
  c.token = token;
  Client client(c, fake);
  try {
    client.get(resources::kNodes, "", "n1");
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ApiError::Kind::Forbidden);
    EXPECT_EQ(std::string(e.what()).find(token), std::string::npos) << e.what();
    EXPECT_EQ(e.message().find(token), std::string::npos);
    EXPECT_EQ(e.message(), "denied for Bearer [redacted]");
  }
  EXPECT_EQ(fake->sent().at(0).headers.at("Authorization"), "Bearer " + token);
}

TEST(ClientCredentials, UnauthorizedForcesTokenFileReread) {
  auto dir = faultline::testing::temp_dir("token");
  auto file = dir + "/token";
  faultline::testing::write_file(file, "token-AAAA\n");
  auto fake = std::make_shared<FakeTransport>();
  fake->on("GET", "/version", [](const HttpRequest& r) {
    if (r.headers.at("Authorization") == "Bearer token-BBBB")
      return HttpResponse{200, {}, R"({"gitVersion":"v1.36.3"})", false};
    return HttpResponse{401, {}, R"({"kind":"Status","code":401,"message":"Unauthorized"})", false};
  });
  auto c = config();
  c.token_file = file;
  c.max_retries = 0;
  Client client(c, fake);
  EXPECT_THROW(client.server_version(), ApiError);  // A is refused (after one re-read)

  // Rotate in place to the same size and restore the mtime, so only the 401
  // (not the stamp) can tell the client to read it again.
  struct stat before {};
  ASSERT_EQ(::stat(file.c_str(), &before), 0);
  faultline::testing::write_file(file, "token-BBBB\n");
  timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
  EXPECT_EQ(client.server_version()["gitVersion"], "v1.36.3");
  auto sent = fake->sent();
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0].headers.at("Authorization"), "Bearer token-AAAA");
  EXPECT_EQ(sent[1].headers.at("Authorization"), "Bearer token-AAAA");  // re-read, unchanged
  EXPECT_EQ(sent[2].headers.at("Authorization"), "Bearer token-AAAA");  // stamp unchanged
  EXPECT_EQ(sent[3].headers.at("Authorization"), "Bearer token-BBBB");  // the 401 re-read
  std::filesystem::remove_all(dir);
}

TEST(ClientCopies, ShareOneTransportAndState) {
  auto fake = std::make_shared<FakeTransport>();
  fake->on("GET", "/version", 200, R"({"gitVersion":"v1"})");
  Client a(config(), fake);
  Client b = a;  // cheap: shared_ptrs
  b.server_version();
  a.server_version();
  EXPECT_EQ(fake->count("GET", "/version"), 2u);
  EXPECT_EQ(b.config().server, a.config().server);
}

}  // namespace
}  // namespace faultline::kube
