// Refuse before touching: a drill that cannot prove anything never starts.
// A target selector with a typo or a syntax error, a Service that is not
// there or has no endpoints, a PDB or a zone that does not exist: each is
// refused before the first fault with its reason. The proof is not "rolled
// back" but "never made": every request faultline sends goes through a
// recording proxy in front of the real API server, and none of them writes;
// the resourceVersions of every node and pod are as before.
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

#include "runner/chaos/cluster_view.h"
#include "runner/kube/resource.h"
#include "tests/e2e/cluster_env.h"
#include "tests/e2e/experiments/experiment_env.h"
#include "tests/e2e/experiments/fault_proxy.h"

namespace faultline::testing {
namespace {

namespace res = kube::resources;
using namespace std::chrono_literals;

// kind/namespace/name -> resourceVersion: any write to one of them changes it.
std::map<std::string, std::string> resource_versions() {
  auto client = cluster_client();
  std::map<std::string, std::string> out;
  auto add = [&](const kube::Resource& r, const std::string& ns) {
    for (const auto& item : chaos::items(client.list(r, ns))) {
      const auto& md = item["metadata"];
      out[r.display() + "/" + md.value("namespace", "") + "/" + md.value("name", "")] =
          md.value("resourceVersion", "");
    }
  };
  add(res::kNodes, "");
  add(res::kPods, "");
  add(res::kPodDisruptionBudgets, "");
  add(res::kConfigMaps, "faultline");
  add(res::kLeases, "faultline");
  add(res::kEvents, "shop");
  return out;
}

class RefuseBeforeTouching : public ::testing::Test {
 protected:
  void SetUp() override {
    fresh_demo();
    kube::LoadOptions load;
    load.kubeconfig = kubeconfig_path();
    load.allow_in_cluster = false;
    proxy_ = std::make_unique<FaultProxy>(
        kube::load_config(load),
        [this](const ProxiedRequest& r) {
          std::lock_guard lock(mu_);
          requests_.push_back(r.method + " " + r.target);
          // The proxy answers one request at a time: this holds up every
          // request behind the slow list too, as an overloaded server does.
          if (slow_lists_of_ && r.method == "GET" &&
              r.target.find(slow_lists_of_) != std::string::npos &&
              r.target.find("watch=1") == std::string::npos) {
            ++slow_lists_;
            std::this_thread::sleep_for(slow_list_);
          }
          return refuse_watches_of_ && r.method == "GET" &&
                 r.target.find(refuse_watches_of_) != std::string::npos &&
                 r.target.find("watch=1") != std::string::npos;
        },
        403);
    kubeconfig_ = proxy_->write_kubeconfig(scratch_.path("proxy.kubeconfig"));
    before_ = resource_versions();
    nodes_before_ = snapshot_nodes();
  }

  // `faultline <args>` through the recording proxy.
  int faultline_via_proxy(const std::string& args, std::string* output) {
    return run(faultline_binary() + " " + args + " --kubeconfig " + kubeconfig_ + " --no-progress",
               output);
  }

  std::vector<std::string> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  // Every request that is not a read.
  std::vector<std::string> writes() {
    std::vector<std::string> out;
    for (const auto& r : requests())
      if (r.rfind("GET ", 0) != 0) out.push_back(r);
    return out;
  }

  void expect_nothing_written() {
    auto w = writes();
    EXPECT_TRUE(w.empty()) << "faultline sent " << w.size()
                           << " write(s), the first: " << (w.empty() ? "" : w[0]);
    auto after = resource_versions();
    for (const auto& [key, version] : before_) {
      auto it = after.find(key);
      if (it == after.end())
        ADD_FAILURE() << key << " is gone";
      else
        EXPECT_EQ(it->second, version) << key << " was written";
    }
    for (const auto& [key, version] : after)
      EXPECT_TRUE(before_.count(key)) << key << " was created";
    expect_cluster_as_before(nodes_before_);
  }

  // A run refused at its preconditions: exit 1, the reason on the result
  // line, a report with no fault.
  void expect_refused_with(const ExperimentSpec& spec, const std::string& reason) {
    std::string file = scratch_.experiment(spec.name, spec.yaml()), out_dir = scratch_.output_dir(),
                output;
    int code = faultline_via_proxy("run " + file + " --output-dir " + out_dir, &output);
    EXPECT_EQ(code, 1) << output;
    EXPECT_EQ(line_starting_with(output, "result: "),
              "result: failed (exit 1): steady state does not hold before any fault: " + reason +
                  " (refused: nothing was touched)")
        << output;
    json report = read_report(out_dir);
    EXPECT_EQ(report.value("result", ""), "failed");
    EXPECT_TRUE(report.value("faults", json::array()).empty()) << report["faults"].dump(2);
    expect_nothing_written();
  }

  // Exit 2 and one line.
  void expect_invalid(const std::string& command, const std::string& line) {
    std::string output;
    int code = faultline_via_proxy(command, &output);
    EXPECT_EQ(code, 2) << output;
    EXPECT_EQ(output, line + "\n");
  }

  Scratch scratch_;
  std::unique_ptr<FaultProxy> proxy_;
  std::string kubeconfig_;
  std::mutex mu_;
  std::vector<std::string> requests_;
  const char* refuse_watches_of_ = nullptr;
  const char* slow_lists_of_ = nullptr;  // every list of it takes `slow_list_`
  int slow_lists_ = 0;
  std::chrono::milliseconds slow_list_{0};
  std::map<std::string, std::string> before_;
  NodeSnapshot nodes_before_;
};

TEST_F(RefuseBeforeTouching, TypoInTheTargetSelector_MatchesNoPod_RefusedWithNothingWritten) {
  ExperimentSpec spec;
  spec.name = "typo-selector";
  spec.target = "{ namespace: shop, selector: app=chekout, service: checkout }";
  expect_refused_with(spec, "target selector \"app=chekout\" matches no pod in namespace shop");
}

TEST_F(RefuseBeforeTouching, SelectorSyntaxError_IsExit2InValidatePlanAndRun_WithNoRequestAtAll) {
  ExperimentSpec spec;
  spec.name = "syntax-selector";
  spec.target = "{ namespace: shop, selector: \"app=check out\", service: checkout }";
  std::string file = scratch_.experiment(spec.name, spec.yaml());
  const std::string line =
      "error: " + file +
      ":8:40: spec.target.selector: label selector \"app=check out\": expected \",\" or the "
      "end after a requirement, got \"out\"";
  expect_invalid("validate " + file, line);
  expect_invalid("plan " + file, line);
  expect_invalid("run " + file + " --output-dir " + scratch_.output_dir(), line);
  EXPECT_TRUE(requests().empty()) << requests().front();
  expect_nothing_written();
}

TEST_F(RefuseBeforeTouching, MissingService_RefusedWithNothingWritten) {
  ExperimentSpec spec;
  spec.name = "missing-service";
  spec.target = "{ namespace: shop, selector: app=checkout, service: chekout }";
  spec.probes = {"{ name: pods, pods: {} }"};
  spec.slos = {};
  expect_refused_with(spec, "Service shop/chekout does not exist");
}

TEST_F(RefuseBeforeTouching, ServiceWithoutEndpoints_RefusedWithNothingWritten) {
  std::string manifest = scratch_.path("nobody-home.yaml");
  std::ofstream(manifest) << "apiVersion: v1\nkind: Service\nmetadata: { name: nobody-home }\n"
                             "spec: { selector: { app: nobody-home }, ports: [ { port: 80 } ] }\n";
  kubectl("-n shop apply -f " + manifest);
  before_ = resource_versions();
  ExperimentSpec spec;
  spec.name = "no-endpoints";
  spec.target = "{ namespace: shop, selector: app=checkout, service: nobody-home }";
  spec.probes = {"{ name: pods, pods: {} }"};
  spec.slos = {};
  expect_refused_with(spec, "Service shop/nobody-home has no ready endpoints");
}

TEST_F(RefuseBeforeTouching, PdbNamedInAnSloThatDoesNotExist_RefusedWithNothingWritten) {
  ExperimentSpec spec;
  spec.name = "missing-pdb";
  spec.slos = {"{ pdb: { name: chekout } }"};
  expect_refused_with(spec, "PodDisruptionBudget shop/chekout does not exist");
}

TEST_F(RefuseBeforeTouching, ZoneThatDoesNotExist_IsExit2OneLine_WithNothingWritten) {
  ExperimentSpec spec;
  spec.name = "missing-zone";
  spec.params = "{ zone: zone-x, within: 60s }";
  std::string file = scratch_.experiment(spec.name, spec.yaml());
  expect_invalid(
      "run " + file + " --output-dir " + scratch_.output_dir(),
      "error: " + file +
          ": params: zone \"zone-x\" has no nodes in this cluster (zones: zone-a, zone-b, "
          "zone-c)");
  expect_invalid(
      "plan " + file,
      "error: " + file +
          ": params: zone \"zone-x\" has no nodes in this cluster (zones: zone-a, zone-b, "
          "zone-c)");
  expect_nothing_written();
}

// The one case refused after the lock: the warm-up is what finds a probe
// that cannot run, and the lock comes before the warm-up so that a stale
// drill's rollback is done before the steady state is measured. So the only
// writes are the Lease's (taken and released); no journal, no Event, no node.
TEST_F(RefuseBeforeTouching, ProbeWatchRefused403_SteadyStateDoesNotHold_OnlyTheLockWasWritten) {
  refuse_watches_of_ = "/endpointslices";
  ExperimentSpec spec;
  spec.name = "watch-refused";
  std::string file = scratch_.experiment(spec.name, spec.yaml()), out_dir = scratch_.output_dir(),
              output;
  int code = faultline_via_proxy("run " + file + " --output-dir " + out_dir, &output);
  EXPECT_EQ(code, 1) << output;
  std::string result = line_starting_with(output, "result: ");
  EXPECT_EQ(
      result.rfind(
          "result: failed (exit 1): steady state does not hold before any fault: probe endpoints "
          "cannot run: ",
          0),
      0u)
      << output;
  EXPECT_NE(result.find("403"), std::string::npos) << result;
  for (const auto& w : writes())
    EXPECT_TRUE(w.find("/apis/coordination.k8s.io/v1/namespaces/faultline/leases") !=
                    std::string::npos ||
                w.rfind("POST /api/v1/namespaces?", 0) == 0 || w == "POST /api/v1/namespaces")
        << "a write other than the lock's: " << w;
  expect_cluster_as_before(nodes_before_);
  EXPECT_TRUE(journal_configmaps().empty());
}

// Not a refusal: first lists that outlast the warmup (a large cluster, a
// loaded control plane) are waited for, and the warmup starts once they are
// in. Before, the steady state was judged on no samples and the drill was
// refused ("ready_endpoints(checkout) no samples"): 10k pods under heaptrack.
TEST_F(RefuseBeforeTouching, FirstListsSlowerThanTheWarmup_AreWaitedFor_NotARefusal) {
  slow_lists_of_ = "/endpointslices";
  slow_list_ = 5s;  // the warm-up is 2 s
  scratch_.script("nothing.lua", "log.info(\"no fault\")\n");
  ExperimentSpec spec;
  spec.name = "slow-first-lists";
  spec.script = "nothing.lua";
  spec.params = "";
  std::string file = scratch_.experiment(spec.name, spec.yaml()), out_dir = scratch_.output_dir(),
              output;
  int code = faultline_via_proxy("run " + file + " --output-dir " + out_dir, &output);
  EXPECT_EQ(code, 0) << output;
  EXPECT_EQ(line_starting_with(output, "result: "), "result: passed (exit 0)") << output;
  {
    std::lock_guard lock(mu_);
    EXPECT_GE(slow_lists_, 1);  // the probe's list was one of them
  }
  json report = read_report(out_dir);
  for (const auto& p : report["phases"]) {
    if (p["name"] == "preflight") {
      EXPECT_GE(p["ended"].get<double>(), 5.0) << p.dump();
    }
  }
  expect_cluster_as_before(nodes_before_);
}

// A guard that refuses the first fault: the input asks for more than the
// guards allow. Exit 2, and no node was touched.
TEST_F(RefuseBeforeTouching, GuardRefusesTheFirstFault_IsExit2_NoNodeTouched) {
  scratch_.script("cordon_a.lua", "chaos.cordon_zone(\"zone-a\")\n");
  ExperimentSpec spec;
  spec.name = "guard-refusal";
  spec.script = "cordon_a.lua";
  spec.params = "";
  spec.guards = "{ max_zones: 1, max_node_fraction: 0.1, namespaces: [shop] }";
  std::string file = scratch_.experiment(spec.name, spec.yaml()), out_dir = scratch_.output_dir(),
              output;
  int code = faultline_via_proxy("run " + file + " --output-dir " + out_dir, &output);
  EXPECT_EQ(code, 2) << output;
  EXPECT_EQ(line_starting_with(output, "result: ")
                .rfind("result: error (exit 2): refused before touching anything: ", 0),
            0u)
      << output;
  // plan, read-only, sees the same refusal coming: exit 2 too.
  std::string plan;
  EXPECT_EQ(faultline_via_proxy("plan " + file, &plan), 2) << plan;
  EXPECT_NE(plan.find("GUARD REFUSES: guard max_node_fraction"), std::string::npos) << plan;
  for (const auto& w : writes()) {
    EXPECT_EQ(w.find("/api/v1/nodes"), std::string::npos) << w;
    EXPECT_EQ(w.find("/pods"), std::string::npos) << w;
  }
  expect_cluster_as_before(nodes_before_);
}

}  // namespace
}  // namespace faultline::testing
