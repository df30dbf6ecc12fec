// Resource paths, Status errors, backoff and the rate limiter: the small
// pure pieces under the client.
#include <gtest/gtest.h>

#include "runner/kube/backoff.h"
#include "runner/kube/base64.h"
#include "runner/kube/errors.h"
#include "runner/kube/exec_credential.h"
#include "runner/kube/rate_limiter.h"
#include "runner/kube/resource.h"
#include "runner/kube/status.h"
#include "runner/kube/url.h"

namespace faultline::kube {
namespace {

TEST(Resource, Path_CoreNamedAndClusterScoped) {
  EXPECT_EQ(resources::kPods.path("shop", "web-1", "eviction"),
            "/api/v1/namespaces/shop/pods/web-1/eviction");
  EXPECT_EQ(resources::kPods.path(""), "/api/v1/pods");  // all namespaces
  EXPECT_EQ(resources::kNodes.path("ignored", "zone-a-1"), "/api/v1/nodes/zone-a-1");
  EXPECT_EQ(resources::kDeployments.path("shop", "web"),
            "/apis/apps/v1/namespaces/shop/deployments/web");
  EXPECT_EQ(resources::kPodDisruptionBudgets.path("shop"),
            "/apis/policy/v1/namespaces/shop/poddisruptionbudgets");
  EXPECT_EQ(resources::kLeases.display(), "leases.coordination.k8s.io");
  EXPECT_EQ(resources::kPods.display(), "pods");
}

TEST(Url, EscapesSelectorsAndSkipsEmptyValues) {
  EXPECT_EQ(url_escape("app in (a,b),tier!=db"), "app%20in%20%28a%2Cb%29%2Ctier%21%3Ddb");
  EXPECT_EQ(query_string({{"labelSelector", "a=b"}, {"continue", ""}, {"limit", "5"}}),
            "?labelSelector=a%3Db&limit=5");
  EXPECT_EQ(query_string({{"continue", ""}}), "");
}

TEST(Base64, RoundTripsAndRejectsGarbage) {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "\x01\xff\x80 binary"})
    EXPECT_EQ(base64_decode(base64_encode(s)), s);
  EXPECT_EQ(base64_decode("aGVs\nbG8="), "hello");
  EXPECT_FALSE(base64_decode("abc").has_value());
  EXPECT_FALSE(base64_decode("ab*=").has_value());
  EXPECT_FALSE(base64_decode("a=bc").has_value());
}

TEST(StatusError, MapsStatusReasonMessageAndRetryAfter) {
  HttpResponse r;
  r.status = 429;
  r.headers["retry-after"] = "3";
  r.body =
      R"({"kind":"Status","status":"Failure","message":"Cannot evict pod as it would violate the pod's disruption budget.","reason":"TooManyRequests","code":429})";
  auto e = status_error(r, "evict", "pods", "web-1");
  EXPECT_EQ(e.kind(), ApiError::Kind::TooManyRequests);
  EXPECT_EQ(e.http_status(), 429);
  EXPECT_EQ(e.verb(), "evict");
  EXPECT_EQ(e.resource(), "pods");
  EXPECT_EQ(e.name(), "web-1");
  EXPECT_EQ(e.reason(), "TooManyRequests");
  EXPECT_EQ(e.retry_after_seconds(), 3.0);
  EXPECT_TRUE(e.retryable());
  EXPECT_EQ(std::string(e.what()),
            "evict pods \"web-1\": Cannot evict pod as it would violate the pod's disruption "
            "budget. (HTTP 429 TooManyRequests, retry after 3s)");

  r.status = 409;
  r.headers.clear();
  r.body =
      R"({"kind":"Status","message":"pods \"x\" already exists","reason":"AlreadyExists","code":409})";
  e = status_error(r, "create", "pods", "x");
  EXPECT_EQ(e.kind(), ApiError::Kind::Conflict);
  EXPECT_EQ(e.reason(), "AlreadyExists");
  EXPECT_FALSE(e.retryable());
  EXPECT_EQ(std::string(e.what()),
            "create pods \"x\": pods \"x\" already exists (HTTP 409 Conflict, AlreadyExists)");

  r.status = 500;
  r.body =
      R"({"kind":"Status","message":"etcd is slow","reason":"Timeout","code":500,"details":{"retryAfterSeconds":2}})";
  e = status_error(r, "get", "nodes", "n");
  EXPECT_EQ(e.kind(), ApiError::Kind::ServerTimeout);
  EXPECT_EQ(e.retry_after_seconds(), 2.0);

  r.status = 502;
  r.body = "<html>\n<body>Bad gateway</body>\n</html>";
  e = status_error(r, "list", "pods", "");
  EXPECT_EQ(e.kind(), ApiError::Kind::ServerError);
  EXPECT_EQ(e.message(), "<html> <body>Bad gateway</body> </html>");

  for (auto [status, kind] :
       std::vector<std::pair<int, ApiError::Kind>>{{400, ApiError::Kind::BadRequest},
                                                   {401, ApiError::Kind::Unauthorized},
                                                   {403, ApiError::Kind::Forbidden},
                                                   {404, ApiError::Kind::NotFound},
                                                   {410, ApiError::Kind::Gone},
                                                   {422, ApiError::Kind::Invalid},
                                                   {503, ApiError::Kind::ServerError},
                                                   {504, ApiError::Kind::ServerTimeout},
                                                   {418, ApiError::Kind::Other}})
    EXPECT_EQ(kind_for_status(status, ""), kind) << status;
}

TEST(ApiErrorKind, OnlyTransientKindsAreRetryable) {
  auto make = [](ApiError::Kind k) { return ApiError(k, 0, "get", "pods", "p", "m"); };
  EXPECT_TRUE(make(ApiError::Kind::Transport).retryable());
  EXPECT_TRUE(make(ApiError::Kind::ServerError).retryable());
  EXPECT_TRUE(make(ApiError::Kind::ServerTimeout).retryable());
  EXPECT_FALSE(make(ApiError::Kind::Timeout).retryable());
  EXPECT_FALSE(make(ApiError::Kind::NotFound).retryable());
  EXPECT_FALSE(make(ApiError::Kind::Decode).retryable());
  EXPECT_STREQ(to_string(ApiError::Kind::TooManyRequests), "TooManyRequests");
}

TEST(Backoff, FullJitterWithinTheCeilingAndRetryAfterCapped) {
  Backoff b;
  for (int attempt = 0; attempt < 10; ++attempt) {
    long long ceiling = std::min<long long>(100LL << attempt, 5000);
    for (int i = 0; i < 50; ++i) {
      auto d = b.delay(attempt, std::nullopt).count();
      EXPECT_GE(d, 0);
      EXPECT_LE(d, ceiling) << "attempt " << attempt;
    }
  }
  EXPECT_EQ(b.delay(0, 2.5).count(), 2500);
  EXPECT_EQ(b.delay(3, 3600).count(), 30000);  // a server cannot park us for an hour
}

TEST(RateLimiter, BurstIsFreeThenTokensCostOneOverQps) {
  RateLimiter limiter(10, 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(limiter.reserve_delay_for_test(), RateLimiter::Clock::duration::zero());
    ASSERT_TRUE(limiter.acquire());
  }
  auto wait = std::chrono::duration<double>(limiter.reserve_delay_for_test()).count();
  EXPECT_GT(wait, 0.05);  // about 1/qps = 0.1s, less whatever refilled meanwhile
  EXPECT_LE(wait, 0.1);

  RateLimiter unlimited(0, 1);
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(unlimited.acquire());
  EXPECT_EQ(unlimited.reserve_delay_for_test(), RateLimiter::Clock::duration::zero());
}

TEST(RateLimiter, StoppedWaiterReturnsFalse) {
  RateLimiter limiter(0.001, 1);  // one token, then one every 1000s
  ASSERT_TRUE(limiter.acquire());
  std::stop_source stop;
  stop.request_stop();
  EXPECT_FALSE(limiter.acquire(stop.get_token()));
}

TEST(Rfc3339, ParsesZuluOffsetsAndFractions) {
  using namespace std::chrono;
  auto t = parse_rfc3339("2024-05-01T10:00:00Z");
  ASSERT_TRUE(t);
  EXPECT_EQ(duration_cast<seconds>(t->time_since_epoch()).count(), 1714557600);
  auto off = parse_rfc3339("2024-05-01T12:00:00.5+02:00");
  ASSERT_TRUE(off);
  EXPECT_EQ(duration_cast<milliseconds>(off->time_since_epoch()).count(), 1714557600500);
  auto far = parse_rfc3339("2999-01-01T00:00:00Z");  // past system_clock's range
  ASSERT_TRUE(far);
  EXPECT_GT(*far, std::chrono::system_clock::now() + std::chrono::hours(24 * 365 * 200));
  EXPECT_FALSE(parse_rfc3339("2024-05-01 10:00:00"));
  EXPECT_FALSE(parse_rfc3339("2024-13-01T10:00:00Z"));
  EXPECT_FALSE(parse_rfc3339("2024-05-01T10:00:00"));
}

TEST(ExecCredentialParse, AcceptsTokenOrCertAndRejectsWithoutEchoingOutput) {
  ExecConfig exec;
  exec.api_version = "client.authentication.k8s.io/v1";
  exec.command = "plugin";
  exec.source = "cfg user \"u\"";
  auto c = parse_exec_credential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"tok-1","expirationTimestamp":"2030-01-01T00:00:00Z"}})",
      exec);
  EXPECT_EQ(c.token, "tok-1");
  ASSERT_TRUE(c.expires);

  auto message = [&](const std::string& out) {
    try {
      parse_exec_credential(out, exec);
    } catch (const ApiError& e) {
      EXPECT_EQ(e.kind(), ApiError::Kind::Unauthorized);
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message("secret-token-not-json"),
            "request: exec plugin \"plugin\" (cfg user \"u\"): output is not a JSON "
            "ExecCredential (Unauthorized)");
  EXPECT_EQ(
      message(
          R"({"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"secret-token"}})"),
      "request: exec plugin \"plugin\" (cfg user \"u\"): output has apiVersion "
      "\"client.authentication.k8s.io/v1beta1\" (expected client.authentication.k8s.io/v1) "
      "(Unauthorized)");
  EXPECT_EQ(
      message(
          R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"clientKeyData":"secret-key"}})"),
      "request: exec plugin \"plugin\" (cfg user \"u\"): status has only one of "
      "clientCertificateData and clientKeyData (expected both) (Unauthorized)");
  EXPECT_EQ(
      message(
          R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"secret-token","expirationTimestamp":"tomorrow"}})"),
      "request: exec plugin \"plugin\" (cfg user \"u\"): status.expirationTimestamp "
      "\"tomorrow\" is not an RFC 3339 time (Unauthorized)");
}

}  // namespace
}  // namespace faultline::kube
