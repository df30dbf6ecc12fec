// The drill lock over a fake transport: the renewal faults a real API server
// will not produce on demand (a lost answer, a 409, a hung request), and the
// takeover rules (local observation of the record, compare-and-swap first).
#include "runner/chaos/lock.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "runner/chaos/journal.h"
#include "tests/unit/chaos/fake_client.h"

namespace faultline::chaos {
namespace {

using faultline::testing::FakeTransport;
using namespace std::chrono_literals;
using json = nlohmann::json;

const std::string kLease =
    "/apis/coordination.k8s.io/v1/namespaces/faultline/leases/faultline-lock";
const std::string kMe = "run-1@host/boot/1";

kube::Client client_of(std::shared_ptr<FakeTransport> fake) {
  return testing::fake_client(std::move(fake));
}

std::string lease(const std::string& holder, const std::string& rv, int duration = 3,
                  const std::string& renewed = "2030-01-01T00:00:00.000000Z") {
  return json{
      {"metadata",
       {{"name", "faultline-lock"},
        {"namespace", "faultline"},
        {"resourceVersion", rv},
        {"annotations",
         {{kLockRunAnnotation, holder.substr(0, holder.find('@'))},
          {kLockStateNamespaceAnnotation, "drills"}}}}},
      {"spec",
       {{"holderIdentity", holder}, {"leaseDurationSeconds", duration}, {"renewTime", renewed}}}}
      .dump();
}

// PUTs answered 200 with an increasing resourceVersion.
FakeTransport::Reply renewed_ok() {
  auto n = std::make_shared<std::atomic<int>>(100);
  return [n](const kube::HttpRequest&) {
    return kube::HttpResponse{200, {}, lease(kMe, std::to_string(++*n)), false};
  };
}

kube::HttpResponse conflict(const kube::HttpRequest&) {
  return {
      409,
      {},
      R"({"kind":"Status","code":409,"reason":"Conflict","message":"the object has been modified"})",
      false};
}

// Takes a fresh lock (GET 404, POST 201 rv 1) with a 3 s lease: renewals
// every 500 ms, each bounded by 1 s, lost after 2 s without one landing.
// Later GETs of the Lease answer `later_get`.
void acquire_fresh(FakeTransport& fake, RunLock& lock, const std::string& later_get = "") {
  fake.on("GET", kLease, 404, R"({"kind":"Status","code":404,"reason":"NotFound"})");
  if (!later_get.empty()) fake.on("GET", kLease, 200, later_get);
  fake.on("POST", "/apis/coordination.k8s.io/v1/namespaces/faultline/leases", 201, lease(kMe, "1"));
  lock.acquire([](const StaleHolder&) { FAIL() << "nothing to take over"; });
}

std::string rv_sent(const kube::HttpRequest& r) {
  return json::parse(r.body)["metadata"].value("resourceVersion", "");
}

TEST(RunLock, RenewalTimingsAreBoundedWellInsideTheLease) {
  RunLock lock(client_of(std::make_shared<FakeTransport>()), "faultline", kMe, 30);
  EXPECT_EQ(lock.renew_period(), 5000ms);
  EXPECT_EQ(lock.renew_timeout(), 10000ms);
  EXPECT_EQ(lock.renew_deadline(), 20000ms);
}

TEST(RunLock, LostAnswerThen409_RereadsTheLeaseAndKeepsItWhenStillOurs) {
  auto fake = std::make_shared<FakeTransport>();
  RunLock lock(client_of(fake), "faultline", kMe, 3);
  std::atomic<bool> lost{false};
  lock.on_lost([&](const std::string&) { lost = true; });
  acquire_fresh(*fake, lock, lease(kMe, "2"));
  // The first renewal lands (rv 2) but its answer is lost; the retry with the
  // stale rv 1 gets 409; the Lease still names us at rv 2.
  fake->on("PUT", kLease, [](const kube::HttpRequest&) -> kube::HttpResponse {
    throw kube::ApiError(kube::ApiError::Kind::Transport, 0, "", "", "",
                         "Connection reset by peer");
  });
  fake->on("PUT", kLease, conflict);
  fake->on("PUT", kLease, renewed_ok());
  std::this_thread::sleep_for(3500ms);  // longer than the lease

  EXPECT_FALSE(lost);
  EXPECT_TRUE(lock.valid());
  std::vector<std::string> rvs;
  for (const auto& r : fake->sent())
    if (r.method == "PUT") rvs.push_back(rv_sent(r));
  ASSERT_GE(rvs.size(), 4u);
  EXPECT_EQ(rvs[0], "1");
  EXPECT_EQ(rvs[1], "1");  // 409
  EXPECT_EQ(rvs[2], "2");  // adopted from the re-read
  EXPECT_EQ(rvs[3], "101");
  lock.release();
}

TEST(RunLock, 409AndAnotherHolder_LosesAtOnceAndStopsMutations) {
  auto fake = std::make_shared<FakeTransport>();
  RunLock lock(client_of(fake), "faultline", kMe, 3);
  std::atomic<int> lost{0};
  std::string why;
  lock.on_lost([&](const std::string& w) {
    why = w;
    ++lost;
  });
  acquire_fresh(*fake, lock, lease("run-2@elsewhere/b/9", "8"));
  EXPECT_NO_THROW(lock.check_valid());
  fake->on("PUT", kLease, conflict);
  std::this_thread::sleep_for(900ms);

  EXPECT_EQ(lost, 1);
  EXPECT_EQ(why, "lost the drill lock: it is now held by run-2@elsewhere/b/9");
  EXPECT_FALSE(lock.valid());
  EXPECT_THROW(lock.check_valid(), LockLostError);
  // The journal's gate refuses the next mutation before anything is sent.
  Journal journal(client_of(fake), "faultline", "run-1", json::object());
  journal.set_gate([&lock] { lock.check_valid(); });
  auto posts = fake->count("POST", "/api/v1/namespaces/faultline/configmaps");
  EXPECT_THROW(journal.intend({JournalEntry{0, "cordon", "node", "", "n1", "", "", "", -1, -1}}),
               LockLostError);
  EXPECT_EQ(fake->count("POST", "/api/v1/namespaces/faultline/configmaps"), posts);
  lock.release();
  EXPECT_EQ(fake->count("DELETE", kLease), 0u);  // not ours to delete
}

TEST(RunLock, HungRenewal_IsBoundedAndTheLockIsLostBeforeALeaseCouldExpire) {
  auto fake = std::make_shared<FakeTransport>();
  RunLock lock(client_of(fake), "faultline", kMe, 3);
  std::atomic<bool> lost{false};
  std::chrono::steady_clock::time_point lost_at;
  lock.on_lost([&](const std::string&) {
    lost_at = std::chrono::steady_clock::now();
    lost = true;
  });
  std::vector<std::chrono::milliseconds> timeouts;
  std::mutex m;
  auto acquired = std::chrono::steady_clock::now();
  acquire_fresh(*fake, lock);
  fake->on("PUT", kLease, [&](const kube::HttpRequest& r) -> kube::HttpResponse {
    {
      std::lock_guard lk(m);
      timeouts.push_back(r.timeout);
    }
    std::this_thread::sleep_for(r.timeout);  // as a transport honouring its timeout
    throw kube::ApiError(kube::ApiError::Kind::Timeout, 0, "", "", "", "timed out");
  });
  std::this_thread::sleep_for(3000ms);

  ASSERT_TRUE(lost);
  // Lost at the renew deadline (2 s), a third of the lease before anyone may take over.
  EXPECT_LT(lost_at - acquired, 2400ms);
  EXPECT_GE(lost_at - acquired, 1900ms);
  std::lock_guard lk(m);
  ASSERT_FALSE(timeouts.empty());
  for (auto t : timeouts) EXPECT_LE(t, 1000ms);
  lock.release();
}

TEST(RunLock, StaleHolderWithSkewedClock_TakenByCasAfterALocallyObservedLeaseThenRecovered) {
  auto fake = std::make_shared<FakeTransport>();
  // The holder's clock is years ahead: its renewTime looks fresh forever.
  fake->on("GET", kLease, 200, lease("run-0@elsewhere/b/7", "7", 1, "2099-01-01T00:00:00.000000Z"));
  fake->on("PUT", kLease, renewed_ok());
  RunLock lock(client_of(fake), "faultline", kMe, 3);
  size_t puts_at_recovery = 0;
  StaleHolder seen;
  auto started = std::chrono::steady_clock::now();
  lock.acquire([&](const StaleHolder& s) {
    seen = s;
    puts_at_recovery = fake->count("PUT", kLease);
  });
  auto waited = std::chrono::steady_clock::now() - started;

  EXPECT_GE(waited, 1000ms);  // watched unchanged for its whole lease
  EXPECT_LT(waited, 2500ms);
  EXPECT_EQ(puts_at_recovery, 1u);  // compare-and-swap first, recovery after
  std::string first_put_rv;
  for (const auto& r : fake->sent())
    if (r.method == "PUT" && first_put_rv.empty()) first_put_rv = rv_sent(r);
  EXPECT_EQ(first_put_rv, "7");
  EXPECT_EQ(seen.holder, "run-0@elsewhere/b/7");
  EXPECT_EQ(seen.run_id, "run-0");
  EXPECT_EQ(seen.state_namespace, "drills");
  EXPECT_TRUE(lock.valid());
  lock.release();
}

TEST(RunLock, LiveHolderWithSkewedClock_IsRefusedWhenItsRecordChanges) {
  auto fake = std::make_shared<FakeTransport>();
  // The holder's clock is years behind: its renewTime looks long expired,
  // yet it renews (the resourceVersion moves).
  fake->on("GET", kLease, 200, lease("run-0@elsewhere/b/7", "7", 3, "2001-01-01T00:00:00.000000Z"));
  fake->on("GET", kLease, 200, lease("run-0@elsewhere/b/7", "8", 3, "2001-01-01T00:00:01.000000Z"));
  RunLock lock(client_of(fake), "faultline", kMe, 3);
  bool recovered = false;
  EXPECT_THROW(lock.acquire([&](const StaleHolder&) { recovered = true; }), LockHeldError);
  EXPECT_FALSE(recovered);
  EXPECT_EQ(fake->count("PUT", kLease), 0u);
}

TEST(RunLock, LosingTheTakeoverCas_IsLockHeldAndRecoversNothing) {
  auto fake = std::make_shared<FakeTransport>();
  fake->on("GET", kLease, 200, lease("", "7"));  // released
  fake->on("PUT", kLease, conflict);             // another contender won
  RunLock lock(client_of(fake), "faultline", kMe, 3);
  bool recovered = false;
  EXPECT_THROW(lock.acquire([&](const StaleHolder&) { recovered = true; }), LockHeldError);
  EXPECT_FALSE(recovered);
  EXPECT_FALSE(lock.held());
}

}  // namespace
}  // namespace faultline::chaos
