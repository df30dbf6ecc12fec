#include "tests/unit/reports/sample_record.h"

#include <cmath>
#include <cstdio>
#include <string>

namespace faultline::reports::testing {
namespace {

// Deterministic jitter in [-1, 1] so series look measured, not drawn.
double jitter(int t, int salt) {
  double x = std::sin(t * 12.9898 + salt * 78.233) * 43758.5453;
  return 2 * (x - std::floor(x)) - 1;
}

std::string day_time(int day, int hour, int minute, int second) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "2025-03-%02dT%02d:%02d:%02dZ", 4 + day, hour, minute, second);
  return buf;
}

std::string log_line(double t, const char* level, const std::string& message) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%6.1f %-5s ", t, level);
  return buf + message;
}

}  // namespace

std::string outcome_name(Outcome outcome) {
  switch (outcome) {
    case Outcome::Passed:
      return "Passed";
    case Outcome::Failed:
      return "Failed";
    case Outcome::Aborted:
      return "Aborted";
    case Outcome::Error:
      return "Error";
    case Outcome::RollbackIncomplete:
      return "RollbackIncomplete";
  }
  return "Unknown";
}

RunRecord zone_outage_run(Outcome outcome, int day) {
  const bool deep_dip = outcome == Outcome::Failed;
  const bool aborted = outcome == Outcome::Aborted;
  const double end = aborted ? 45 : 120;

  RunRecord r;
  r.faultline_version = "0.1.0";
  r.run_id =
      "run-20250304-0200-" + std::to_string(static_cast<int>(outcome)) + "-" + std::to_string(day);
  r.experiment = "checkout-zone-outage";
  r.experiment_file = "experiments/checkout-zone-outage.yaml";
  r.script = "lua-scripts/zone_outage.lua";
  r.params = {{"zone", "zone-a"}, {"drain_timeout", "120s"}};
  r.target = {{"namespace", "shop"}, {"selector", "app=checkout"}, {"service", "checkout"}};
  r.cluster_context = "kind-faultline";
  r.cluster_server = "https://127.0.0.1:6443";
  r.kubernetes_version = "v1.31.2";
  r.started_at = day_time(day, 2, 0, 0);
  r.ended_at = day_time(day, 2, static_cast<int>(end) / 60, static_cast<int>(end) % 60);
  r.duration_seconds = end;

  // Phases.
  r.phases = {{"validate", 0, 0.1, "ok", ""},
              {"lock", 0.1, 0.3, "ok", "lease faultline/checkout-zone-outage acquired"},
              {"preflight", 0.3, 15, "ok", "steady state held for 15s"}};
  if (aborted) {
    r.phases.push_back({"inject", 15, 30, "aborted", "stop condition breached"});
    r.phases.push_back({"observe", 15, 30, "aborted", ""});
    r.phases.push_back({"rollback", 30, 44, "ok", "2 changes undone"});
    r.phases.push_back({"report", 44, 45, "ok", ""});
  } else {
    r.phases.push_back({"inject", 15, 40, "ok", ""});
    r.phases.push_back({"observe", 15, 110, "ok", ""});
    r.phases.push_back({"verify", 110, 112, deep_dip ? "failed" : "ok", ""});
    r.phases.push_back(
        {"rollback", 112, 118, outcome == Outcome::RollbackIncomplete ? "failed" : "ok", ""});
    r.phases.push_back({"report", 118, 120, "ok", ""});
  }

  // Faults: cordon both zone-a nodes, evict the two pods there.
  double rb1 = aborted ? 30.5 : 112.5, rb2 = aborted ? 30.7 : 112.7;
  r.faults = {
      {1,
       "cordon_node",
       "node/zone-a-1",
       {{"zone", "zone-a"}, {"was_unschedulable", false}},
       20.0,
       rb1,
       "rolled_back",
       ""},
      {2,
       "cordon_node",
       "node/zone-a-2",
       {{"zone", "zone-a"}, {"was_unschedulable", false}},
       20.2,
       rb2,
       "rolled_back",
       ""},
      {3,
       "evict_pod",
       "pod/shop/checkout-7d9f5c-a1x2z",
       {{"node", "zone-a-1"}, {"retries_429", 0}},
       22.0,
       std::nullopt,
       "not_reversible",
       ""},
      {4,
       "evict_pod",
       "pod/shop/checkout-7d9f5c-a7k4q",
       {{"node", "zone-a-2"}, {"retries_429", 2}},
       23.4,
       std::nullopt,
       "not_reversible",
       ""},
  };
  if (outcome == Outcome::RollbackIncomplete) {
    r.faults[1].rolled_back = std::nullopt;
    r.faults[1].status = "rollback_failed";
    r.faults[1].error = "PATCH node/zone-a-2: connection refused";
    r.rollback.complete = false;
    r.rollback.remaining = {"node/zone-a-2 still cordoned (spec.unschedulable=true)"};
  }

  // Series, one sample a second.
  Series availability{"availability", "ratio", {}};
  Series latency{"latency_p95_ms", "ms", {}};
  Series ready_a{"ready{zone=zone-a}", "count", {}};
  Series ready_b{"ready{zone=zone-b}", "count", {}};
  Series ready_c{"ready{zone=zone-c}", "count", {}};
  for (int t = 0; t <= static_cast<int>(end); ++t) {
    double avail = 1.0;
    if (t >= 22 && t <= 27) {
      // Evicted pods keep receiving traffic until the endpoints catch up.
      double depth = deep_dip ? 0.14 : 0.05;
      if (aborted) depth = 0.3;
      avail = 1.0 - depth * std::exp(-std::abs(t - 23.5) / 1.5) + 0.003 * jitter(t, 1);
      if (avail > 1) avail = 1;
    }
    if (deep_dip && t >= 28 && t <= 35) avail = 0.975 + 0.01 * jitter(t, 2);
    if (aborted && t >= 28) avail = 0.714 + 0.02 * jitter(t, 3);
    availability.points.emplace_back(t, avail);

    double lat = 12 + 2.5 * jitter(t, 4);
    if (t >= 22 && t <= 28) lat = 180 - 20 * std::abs(t - 25) + 5 * jitter(t, 5);
    // A probe scrape lost at t=70: the gap must show as a gap.
    latency.points.emplace_back(t, t == 70 ? std::nan("") : lat);

    ready_a.points.emplace_back(t, t < 22 ? 2 : t < 24 ? 1 : 0);
    ready_b.points.emplace_back(t, t < 48 ? 2 : 3);
    ready_c.points.emplace_back(t, t < 61 ? 2 : 3);
  }
  r.series = {availability, latency, ready_a, ready_b, ready_c};

  // Markers.
  r.markers = {{0.3, "phase", "preflight"},
               {15, "phase", "inject"},
               {20.0, "fault", "cordon node/zone-a-1"},
               {20.2, "fault", "cordon node/zone-a-2"},
               {22.0, "fault", "evict pod/shop/checkout-7d9f5c-a1x2z"},
               {23.4, "fault", "evict pod/shop/checkout-7d9f5c-a7k4q"}};
  if (aborted) {
    r.markers.push_back({30, "abort", "abort: availability(http) below 90% over 10s"});
    r.markers.push_back({30.5, "rollback", "uncordon node/zone-a-1"});
    r.markers.push_back({30.7, "rollback", "uncordon node/zone-a-2"});
  } else {
    r.markers.push_back({110, "phase", "verify"});
    r.markers.push_back({112.5, "rollback", "uncordon node/zone-a-1"});
    if (outcome != Outcome::RollbackIncomplete) {
      r.markers.push_back({112.7, "rollback", "uncordon node/zone-a-2"});
    }
  }

  // SLOs.
  SloRecord avail_slo{"availability(http)",
                      "availability",
                      "HTTP probe success ratio via the Service",
                      0.9972,
                      "99.72%",
                      ">= 99.5%",
                      true,
                      Span{15, 110},
                      "2853 of 2861 requests ok"};
  SloRecord ready_slo{"ready_endpoints(checkout)",
                      "ready_endpoints",
                      "Ready endpoints behind the Service",
                      4,
                      "4",
                      ">= 2",
                      true,
                      Span{15, 110},
                      "minimum at t=23.4s"};
  SloRecord replace_slo{
      "replacement", "replacement",  "Every replica Ready off zone-a, max skew 1",
      41.3,          "41.3s",        "<= 120s",
      true,          Span{20, 61.3}, "6/6 Ready at t=61.3s; skew 0 (zone-b 3, zone-c 3)"};
  if (deep_dip) {
    avail_slo.measured = 0.9841;
    avail_slo.measured_text = "98.41%";
    avail_slo.passed = false;
    avail_slo.deciding_span = Span{22, 35};
    avail_slo.detail = "2816 of 2861 requests ok; 45 failed between t=22s and t=35s";
  }
  if (aborted) {
    for (SloRecord* s : {&avail_slo, &ready_slo, &replace_slo}) {
      s->measured = std::nullopt;
      s->measured_text = "";
      s->passed = false;
      s->deciding_span = std::nullopt;
      s->detail = "";
    }
  }
  if (outcome != Outcome::Error) r.slos = {avail_slo, ready_slo, replace_slo};

  // Events on the target.
  r.events = {
      {20.1, "Normal", "NodeNotSchedulable", "node/zone-a-1",
       "Node zone-a-1 status is now: NodeNotSchedulable"},
      {22.0, "Normal", "Killing", "pod/shop/checkout-7d9f5c-a1x2z", "Stopping container checkout"},
      {22.1, "Normal", "SuccessfulCreate", "replicaset/shop/checkout-7d9f5c",
       "Created pod: checkout-7d9f5c-b3m8n"},
      {22.2, "Warning", "FailedScheduling", "pod/shop/checkout-7d9f5c-b3m8n",
       "0/6 nodes are available: 2 node(s) were unschedulable, 4 node(s) didn't match pod "
       "anti-affinity rules."},
      {47.9, "Normal", "Scheduled", "pod/shop/checkout-7d9f5c-b3m8n",
       "Successfully assigned shop/checkout-7d9f5c-b3m8n to zone-b-2"},
  };

  r.log = {
      log_line(15.0, "info", "zone zone-a: 2 nodes, 2 checkout pods"),
      log_line(20.0, "info", "cordoning zone zone-a"),
      log_line(22.0, "info", "draining zone zone-a (timeout 120s)"),
      log_line(23.4, "warn", "eviction of checkout-7d9f5c-a7k4q refused twice by the PDB (429)"),
      log_line(24.0, "info", "zone zone-a is empty")};

  switch (outcome) {
    case Outcome::Passed:
      r.result = "passed";
      r.exit_code = 0;
      break;
    case Outcome::Failed:
      r.result = "failed";
      r.exit_code = 1;
      break;
    case Outcome::Aborted:
      r.result = "aborted";
      r.exit_code = 3;
      r.abort = AbortRecord{"availability(http) below 90% over 10s", 30, "71.4%",
                            "stop condition breached; injection stopped and rolled back"};
      break;
    case Outcome::Error:
      r.result = "error";
      r.exit_code = 4;
      r.error = "GET https://127.0.0.1:6443/api/v1/nodes: 503 Service Unavailable";
      break;
    case Outcome::RollbackIncomplete:
      r.result = "rollback_incomplete";
      r.exit_code = 5;
      break;
  }
  if (outcome != Outcome::Aborted && outcome != Outcome::Error) {
    r.availability_ratio = deep_dip ? 0.9841 : 0.9972;
    r.replacement_seconds = 41.3;
  }
  return r;
}

RunRecord hostile_run() {
  RunRecord r = zone_outage_run(Outcome::Failed);
  r.experiment = kHostileExperiment;
  r.cluster_context = "ctx&<b>bold</b>";
  r.faults[2].target = kHostilePod;
  r.faults[2].detail = {{"note", "</code><script>alert(3)</script>"}};
  r.slos[0].name = "availability(<i>http</i>) | [link](https://example.invalid/)";
  r.slos[0].detail = "]]><!-- --> & \"quoted\" 'single'";
  r.events[0].message = "<iframe src=\"https://example.invalid/\"></iframe>";
  r.events[1].object = std::string("pod/shop/bad\x01\x02\x1b[31mred\xff\xfe-utf8");
  r.markers[2].label = "<script>alert('marker')</script>";
  r.series[2].name = "ready{zone=<svg onload=alert(4)>}";
  r.log.push_back("</pre><script>alert('log')</script>");
  r.rollback.complete = false;
  r.rollback.remaining = {"<b>node</b>"};
  r.params = {{"zone", "<img src=x onerror=alert(5)>"}};
  return r;
}

RunRecord restore_drill_run() {
  RunRecord r = zone_outage_run(Outcome::Failed);
  r.experiment = "shop-region-failover";
  r.dr = nlohmann::json::parse(R"json({
    "backups": [ { "name": "faultline-c3c64c68-b1", "ok": true, "phase": "Completed",
                   "reason": "Completed", "items": 29, "started": 1796148737.0,
                   "completed": 1796148738.0, "warnings": 0, "errors": 0 } ],
    "disaster_t": 3.6, "rpo_s": 2.17, "rto_s": 32.9,
    "restores": [
      { "name": "faultline-c3c64c68-r2", "backup": "faultline-c3c64c68-b1",
        "cluster": "dr-region", "namespace": "shop", "from_namespace": "shop",
        "ok": true, "reason": "", "phase": "Completed", "warnings": 1, "errors": 0,
        "mismatches": [], "error_messages": [],
        "warning_messages": [ "shop: could not restore, ConfigMap:kube-root-ca.crt already exists. Warning: the in-cluster version is different than the backed-up version" ] },
      { "name": "faultline-c3c64c68-r3", "backup": "faultline-c3c64c68-b1",
        "cluster": "", "namespace": "shop-copy", "from_namespace": "shop",
        "ok": false, "reason": "data check failed: Secret/db data differs (and 1 more)",
        "phase": "Completed", "warnings": 0, "errors": 0,
        "mismatches": [ { "object": "Secret/db", "what": "data differs" },
                        { "object": "ConfigMap/settings", "what": "missing" } ],
        "error_messages": [], "warning_messages": [] } ],
    "timeline": [
      { "t": 2.2, "event": "backup faultline-c3c64c68-b1 started" },
      { "t": 3.0, "event": "backup faultline-c3c64c68-b1 Completed" },
      { "t": 3.6, "event": "disaster: every zone of the source region failed" },
      { "t": 33.7, "event": "restore faultline-c3c64c68-r2 of faultline-c3c64c68-b1 into shop (cluster 'dr-region') started" },
      { "t": 36.5, "event": "restore faultline-c3c64c68-r2 Completed: 1 warning (1 expected on a fresh namespace, not counted)"
},
      { "t": 36.5, "event": "restored workloads Ready in shop (cluster 'dr-region')" },
      { "t": 48.3, "event": "drill cleaned up" } ]
})json");
  return r;
}

}  // namespace faultline::reports::testing
