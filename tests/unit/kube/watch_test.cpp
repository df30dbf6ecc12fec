// Client::watch against a scripted server: resume after a clean end, relist
// after a cut stream or 410 Gone, deliver every change exactly once.
#include <gtest/gtest.h>

#include <condition_variable>
#include <thread>

#include "runner/kube/client.h"
#include "tests/unit/kube/test_server.h"

namespace faultline::kube {
namespace {

using faultline::testing::Exchange;
using faultline::testing::Request;
using faultline::testing::TestServer;

json pod(const std::string& name, const std::string& rv) {
  return {{"kind", "Pod"},
          {"apiVersion", "v1"},
          {"metadata", {{"name", name}, {"uid", "uid-" + name}, {"resourceVersion", rv}}}};
}

std::string list_body(std::vector<json> items, const std::string& rv) {
  return json{{"kind", "PodList"},
              {"apiVersion", "v1"},
              {"metadata", {{"resourceVersion", rv}}},
              {"items", items}}
      .dump();
}

std::string event(const std::string& type, const json& object) {
  return json{{"type", type}, {"object", object}}.dump() + "\n";
}

// Serves list requests and watch requests from two scripts, numbering each.
struct Script {
  std::function<void(Exchange&, int)> list, watch;
  std::mutex mu;
  int lists = 0, watches = 0;
  std::vector<Request> watch_requests;

  TestServer::Handler handler() {
    return [this](Exchange& ex) {
      bool is_watch = ex.request.query.count("watch") > 0;
      int n;
      {
        std::lock_guard lock(mu);
        n = is_watch ? watches++ : lists++;
        if (is_watch) watch_requests.push_back(ex.request);
      }
      if (is_watch)
        watch(ex, n);
      else
        list(ex, n);
    };
  }
};

// "ADDED a@1" for each event, in order.
struct Recorder {
  std::vector<std::string> seen;
  std::string stop_after;  // return false after this event
  bool operator()(const WatchEvent& e) {
    seen.push_back(e.type + " " + e.object["metadata"]["name"].get<std::string>() + "@" +
                   e.object["metadata"]["resourceVersion"].get<std::string>());
    return seen.back() != stop_after;
  }
};

ClientConfig config_for(const TestServer& server) {
  ClientConfig c;
  c.server = server.url();
  c.max_retries = 0;
  return c;
}

// send_synced: a SYNCED after the items of every list (the first and each
// relist's difference), so a caller can judge only a view that is whole;
// list items are marked from_list, stream events are not.
TEST(Watch, SyncedFollowsEveryListAndListItemsAreMarked) {
  Script s;
  s.list = [](Exchange& ex, int n) {
    auto b = pod("b", "2");
    b["spec"] = {{"nodeName", "n1"}};
    if (n == 0)
      ex.respond(200, list_body({pod("a", "1"), b}, "10"));
    else
      ex.respond(200, list_body({pod("a", "11")}, "13"));
  };
  s.watch = [](Exchange& ex, int n) {
    ex.begin_stream();
    if (n == 0) {
      ex.chunk(event("MODIFIED", pod("a", "11")));
      ex.cut();
    } else {
      ex.chunk(event("ADDED", pod("d", "14")));
      ex.hang();
    }
  };
  TestServer server(s.handler());
  Client client(config_for(server));
  std::vector<std::string> seen;
  ListOptions o;
  o.send_synced = true;
  client.watch(resources::kPods, "shop", o,
               [&](const WatchEvent& e) {
                 std::string what = e.type;
                 if (e.type != "SYNCED") {
                   what += " " + e.object["metadata"]["name"].get<std::string>();
                   // A made-up DELETED carries the identity, not the last state.
                   if (e.type == "DELETED") {
                     EXPECT_FALSE(e.object.contains("spec"));
                   }
                 }
                 seen.push_back(what + (e.from_list ? " (list)" : ""));
                 return what != "ADDED d";
               },
               {});
  EXPECT_EQ(seen, (std::vector<std::string>{"ADDED a (list)", "ADDED b (list)", "SYNCED (list)",
                                            "MODIFIED a", "DELETED b (list)", "SYNCED (list)",
                                            "ADDED d"}));
}

TEST(Watch, StreamCutMidEventRelistsAndDeliversOnlyTheDifference) {
  Script s;
  s.list = [](Exchange& ex, int n) {
    if (n == 0) ex.respond(200, list_body({pod("a", "1"), pod("b", "2")}, "10"));
    // After the cut: a as modified, c (whose event was cut), b deleted.
    else
      ex.respond(200, list_body({pod("a", "11"), pod("c", "12")}, "13"));
  };
  s.watch = [](Exchange& ex, int n) {
    ex.begin_stream();
    if (n == 0) {
      ex.chunk(event("MODIFIED", pod("a", "11")));
      auto added_c = event("ADDED", pod("c", "12"));
      ex.chunk(added_c.substr(0, added_c.size() / 2));
      ex.cut();
    } else {
      ex.chunk(event("ADDED", pod("d", "14")));
      ex.hang();
    }
  };
  TestServer server(s.handler());
  Client client(config_for(server));
  Recorder r;
  r.stop_after = "ADDED d@14";
  ListOptions o;
  o.label_selector = "app=web";
  client.watch(resources::kPods, "shop", o, std::ref(r), {});
  EXPECT_EQ(r.seen, (std::vector<std::string>{"ADDED a@1", "ADDED b@2", "MODIFIED a@11",
                                              "ADDED c@12", "DELETED b@2", "ADDED d@14"}));
  EXPECT_EQ(s.lists, 2);
  ASSERT_EQ(s.watch_requests.size(), 2u);
  EXPECT_EQ(s.watch_requests[0].query.at("resourceVersion"), "10");
  EXPECT_EQ(s.watch_requests[0].query.at("allowWatchBookmarks"), "true");
  EXPECT_EQ(s.watch_requests[0].query.at("labelSelector"), "app=web");
  EXPECT_EQ(s.watch_requests[0].path, "/api/v1/namespaces/shop/pods");
  EXPECT_EQ(s.watch_requests[1].query.at("resourceVersion"), "13");
}

TEST(Watch, GoneErrorEventRelists) {
  Script s;
  s.list = [](Exchange& ex, int n) {
    if (n == 0)
      ex.respond(200, list_body({pod("a", "1")}, "10"));
    else
      ex.respond(200, list_body({pod("a", "5"), pod("b", "6")}, "20"));
  };
  s.watch = [](Exchange& ex, int n) {
    ex.begin_stream();
    if (n == 0) {
      ex.chunk(event("ERROR", {{"kind", "Status"},
                               {"code", 410},
                               {"reason", "Expired"},
                               {"message", "too old resource version: 10 (15)"}}));
    } else {
      ex.chunk(event("ADDED", pod("c", "21")));
    }
    ex.hang();  // the client must leave on its own
  };
  TestServer server(s.handler());
  Client client(config_for(server));
  Recorder r;
  r.stop_after = "ADDED c@21";
  client.watch(resources::kPods, "", {}, std::ref(r), {});
  EXPECT_EQ(r.seen,
            (std::vector<std::string>{"ADDED a@1", "MODIFIED a@5", "ADDED b@6", "ADDED c@21"}));
  EXPECT_EQ(s.lists, 2);
  EXPECT_EQ(s.watch_requests.at(1).query.at("resourceVersion"), "20");
}

TEST(Watch, GoneHttpStatusRelists) {
  Script s;
  s.list = [](Exchange& ex, int n) {
    ex.respond(200, list_body({pod("a", n == 0 ? "1" : "2")}, n == 0 ? "10" : "20"));
  };
  s.watch = [](Exchange& ex, int n) {
    if (n == 0) return ex.status(410, "Expired", "too old resource version");
    ex.begin_stream();
    ex.chunk(event("DELETED", pod("a", "21")));
    ex.hang();
  };
  TestServer server(s.handler());
  Client client(config_for(server));
  Recorder r;
  r.stop_after = "DELETED a@21";
  client.watch(resources::kPods, "", {}, std::ref(r), {});
  EXPECT_EQ(r.seen, (std::vector<std::string>{"ADDED a@1", "MODIFIED a@2", "DELETED a@21"}));
}

TEST(Watch, CleanEndResumesFromTheLastBookmarkWithoutRelisting) {
  Script s;
  s.list = [](Exchange& ex, int) { ex.respond(200, list_body({}, "10")); };
  s.watch = [](Exchange& ex, int n) {
    ex.begin_stream();
    if (n == 0) {
      ex.chunk(event("ADDED", pod("x", "12")));
      ex.chunk(event("BOOKMARK", {{"kind", "Pod"}, {"metadata", {{"resourceVersion", "15"}}}}));
      ex.end_stream();  // the server's timeoutSeconds
    } else {
      ex.chunk(event("MODIFIED", pod("x", "16")));
      ex.hang();
    }
  };
  TestServer server(s.handler());
  Client client(config_for(server));
  Recorder r;
  r.stop_after = "MODIFIED x@16";
  client.watch(resources::kPods, "", {}, std::ref(r), {});
  EXPECT_EQ(r.seen, (std::vector<std::string>{"ADDED x@12", "MODIFIED x@16"}));
  EXPECT_EQ(s.lists, 1);
  EXPECT_EQ(s.watch_requests.at(1).query.at("resourceVersion"), "15");
}

TEST(Watch, StopTokenEndsAnIdleWatch) {
  Script s;
  std::mutex mu;
  std::condition_variable cv;
  bool watching = false;
  s.list = [](Exchange& ex, int) { ex.respond(200, list_body({}, "10")); };
  s.watch = [&](Exchange& ex, int) {
    ex.begin_stream();
    {
      std::lock_guard lock(mu);
      watching = true;
    }
    cv.notify_all();
    ex.hang();
  };
  TestServer server(s.handler());
  Client client(config_for(server));
  std::stop_source stop;
  std::thread stopper([&] {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return watching; });
    stop.request_stop();
  });
  int events = 0;
  client.watch(
      resources::kPods, "", {}, [&](const WatchEvent&) { return ++events > 0; }, stop.get_token());
  stopper.join();
  EXPECT_EQ(events, 0);
  EXPECT_EQ(s.watches, 1);
}

TEST(Watch, ForbiddenEndsTheWatchWithATypedError) {
  Script s;
  s.list = [](Exchange& ex, int) { ex.status(403, "Forbidden", "pods is forbidden"); };
  s.watch = [](Exchange& ex, int) { ex.status(403, "Forbidden", "no"); };
  TestServer server(s.handler());
  Client client(config_for(server));
  try {
    client.watch(resources::kPods, "shop", {}, [](const WatchEvent&) { return true; }, {});
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ApiError::Kind::Forbidden);
    EXPECT_EQ(e.verb(), "list");
  }
}

TEST(Watch, GarbageEventIsADecodeErrorAndCallerExceptionsPassThrough) {
  Script s;
  s.list = [](Exchange& ex, int) { ex.respond(200, list_body({pod("a", "1")}, "10")); };
  s.watch = [](Exchange& ex, int) {
    ex.begin_stream();
    ex.chunk("this is not json\n");
    ex.hang();
  };
  TestServer server(s.handler());
  Client client(config_for(server));
  try {
    client.watch(resources::kPods, "", {}, [](const WatchEvent&) { return true; }, {});
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.kind(), ApiError::Kind::Decode);
    EXPECT_EQ(std::string(e.what()),
              "watch pods: watch event is not valid JSON (16 bytes) (HTTP 200 Decode)");
  }
  // The caller's own exception (even an ApiError) is not mistaken for ours.
  try {
    client.watch(resources::kPods, "", {},
                 [](const WatchEvent&) -> bool {
                   throw ApiError(ApiError::Kind::Conflict, 409, "mine", "x", "y", "caller");
                 },
                 {});
    FAIL();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.verb(), "mine");
    EXPECT_EQ(e.kind(), ApiError::Kind::Conflict);
  }
}

}  // namespace
}  // namespace faultline::kube
