#include "runner/experiment/runner.h"

#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>

#include "reports/metrics.h"
#include "reports/render.h"
#include "reports/run_record.h"
#include "runner/chaos/chaos.h"
#include "runner/chaos/lock.h"
#include "runner/chaos/rollback.h"
#include "runner/common/error.h"
#include "runner/common/log.h"
#include "runner/common/malloc_arenas.h"
#include "runner/dr/recover.h"
#include "runner/dr/setup.h"
#include "runner/experiment/events.h"
#include "runner/experiment/fault_records.h"
#include "runner/experiment/host.h"
#include "runner/experiment/plan.h"
#include "runner/experiment/preconditions.h"
#include "runner/experiment/run_context.h"
#include "runner/experiment/script_selectors.h"
#include "runner/experiment/script_thread.h"
#include "runner/experiment/signals.h"
#include "runner/experiment/spec.h"
#include "runner/experiment/vantages.h"
#include "runner/kube/client.h"
#include "runner/observe/observer.h"
#include "runner/observe/progress.h"
#include "runner/observe/series.h"
#include "runner/script/lua_host.h"
#include "runner/slo/abort_monitor.h"
#include "runner/slo/evaluate.h"

namespace faultline::experiment {

namespace fs = std::filesystem;
using json = nlohmann::json;

// How long a stopped script may take to return before rollback goes ahead
// without it. The count hook sees a stop within a thousand instructions, a
// host call within one request; only a single long C call takes longer.
constexpr std::chrono::milliseconds kScriptGrace{3000};

std::string resolve_scripts_dir(const std::string& experiment_file, const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("FAULTLINE_SCRIPTS"); env && *env) return env;
  fs::path beside = fs::path(experiment_file).parent_path().parent_path() / "lua-scripts";
  if (fs::is_directory(beside)) return beside.string();
  return "lua-scripts";
}

namespace {

std::string utc_stamp(const char* format) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

std::string make_run_id(const std::string& name) {
  std::random_device rd;
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "%05x", rd() & 0xfffff);
  std::string id = name.substr(0, 30) + "-" + utc_stamp("%Y%m%d%H%M%S") + "-" + suffix;
  return id;
}

}  // namespace

void check_script_selectors(const std::string& scripts_dir, const std::string& script) {
  std::ifstream in(fs::path(scripts_dir) / script);
  std::stringstream text;
  text << in.rdbuf();
  check_literal_selectors((fs::path(scripts_dir) / script).string(), text.str());
}

namespace {

Experiment load(const std::string& file, const CommonOptions& options, script::LuaHost** host_out,
                std::unique_ptr<script::LuaHost>& host) {
  Experiment e = parse_experiment_file(file);
  for (const auto& p : options.params) apply_param_override(e, p);
  std::string dir = resolve_scripts_dir(file, options.scripts_dir);
  if (!fs::exists(fs::path(dir) / e.script))
    throw InputError(file + ": spec.script: " + e.script + " not found in the scripts directory " +
                     dir + " (set --scripts)");
  host = std::make_unique<script::LuaHost>(dir);
  host->check(e.script);  // compiled, not run
  check_script_selectors(dir, e.script);
  if (host_out) *host_out = host.get();
  return e;
}

// Whether the journal holds a fault: the vantage pods (journaled as
// created pods) are the run's own probes, not something done to the cluster.
bool is_vantage_pod(const chaos::JournalEntry& e) {
  return e.action == "create" && e.kind == "pod";
}

bool made_a_fault(const std::vector<chaos::JournalEntry>& entries) {
  for (const auto& e : entries)
    if (!is_vantage_pod(e)) return true;
  return false;
}

bool interruptible_sleep(std::stop_token stop, double seconds) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait_for(lock, stop, std::chrono::duration<double>(seconds), [] { return false; });
  return !stop.stop_requested();
}

// How long the preflight waits for the pods and endpoints probes' first
// lists before the warmup starts. A large cluster's first lists outlast a
// warmup (10k pods on a loaded control plane: > 3 s), and a steady state
// judged before them is "no samples": a drill refused for nothing.
constexpr double kFirstListsAtMost = 120;

// Waits until every pods and endpoints probe has its first sample, a probe
// has failed (the preflight reports that), `seconds` or stop; returns the
// probes still without one.
std::vector<std::string> wait_for_first_lists(const observe::Observer& observer,
                                              std::stop_token stop, double seconds) {
  auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  for (;;) {
    auto missing = observer.timeline_unsampled();
    if (missing.empty() || !observer.failures().empty() ||
        std::chrono::steady_clock::now() >= until || !interruptible_sleep(stop, 0.05))
      return missing;
  }
}

json target_json(const Experiment& e) {
  return {{"namespace", e.target.namespace_},
          {"selector", e.target.selector},
          {"service", e.target.service}};
}

class Phases {
 public:
  Phases(reports::RunRecord& rec, RunContext& run) : rec_(rec), run_(run) {}
  void begin(const std::string& name) {
    end_current("ok");
    // What the phase before freed (the preflight: the prediction's snapshot
    // of every pod) goes back to the kernel, not into this phase's RSS.
    common::release_free_memory();
    rec_.phases.push_back({name, run_.now(), run_.now(), "running", ""});
    run_.set_phase(name);
    run_.add_marker("phase", name);
    log::info("phase: " + name);
  }
  void end_current(const std::string& status, const std::string& message = "") {
    if (rec_.phases.empty() || rec_.phases.back().status != "running") return;
    rec_.phases.back().ended = run_.now();
    rec_.phases.back().status = status;
    rec_.phases.back().message = message;
  }

 private:
  reports::RunRecord& rec_;
  RunContext& run_;
};

int finish(reports::RunRecord& rec, const RunOptions& o, RunContext& run,
           reports::RunMetrics* metrics, const std::string& out_dir) {
  rec.ended_at = utc_stamp("%Y-%m-%dT%H:%M:%SZ");
  rec.duration_seconds = run.now();
  for (const auto& m : run.markers()) rec.markers.push_back(m);
  rec.log = run.log();
  try {
    reports::write_all(rec, out_dir);
    log::info("reports written to " + out_dir +
              " (report.html, report.json, junit.xml, summary.md)");
  } catch (const std::exception& e) {
    log::error(std::string("writing the reports failed: ") + e.what());
  }
  if (metrics) metrics->update(rec);
  if (!o.pushgateway.empty()) {
    try {
      if (!metrics) throw std::logic_error("no metrics");
      metrics->push(o.pushgateway);
      log::info("metrics pushed to " + o.pushgateway);
    } catch (const std::exception& e) {
      log::error(std::string("pushing metrics failed: ") + e.what());
    }
  }
  std::cout << "result: " << rec.result << " (exit " << rec.exit_code << ")";
  if (!rec.error.empty()) std::cout << ": " << rec.error;
  std::cout << "\nreport: " << (fs::path(out_dir) / "report.html").string() << "\n";
  return rec.exit_code;
}

}  // namespace

int run(const RunOptions& o) {
  std::unique_ptr<script::LuaHost> lua;
  Experiment e = load(o.experiment_file, o, nullptr, lua);  // InputError → exit 2 (main)
  kube::Client client(kube::load_config(o.kube));           // InputError → exit 2
  // A restore drill's other clusters (a missing context: exit 2), Velero in
  // each (missing: exit 4) and the backups the spec names (missing: exit 2).
  std::vector<dr::Cluster> dr_clusters;
  if (e.dr) {
    dr_clusters = dr::connect_clusters(*e.dr, o.kube);
    dr::check_before_touching(client, dr_clusters, *e.dr);
  }

  // Read-only, before anything else: what the input names must exist (a zone
  // that does not → InputError, exit 2, one line), and what the drill would
  // test must be there (else refused below, exit 1, with a report).
  std::string kubernetes_version, connect_error, precheck_error;
  std::vector<std::string> refusals;
  const std::string run_id = make_run_id(e.name);
  std::vector<VantagePlan> vantage_plans;
  try {
    kubernetes_version = client.server_version().value("gitVersion", "");
  } catch (const std::exception& ex) {
    connect_error = ex.what();
  }
  if (connect_error.empty()) {
    try {
      refusals = check_preconditions(client, e);
      // The zones of `from:` (an unknown one: InputError, exit 2); their
      // SLOs are judged per vantage from here on.
      vantage_plans = plan_vantages(client, e, run_id, o.state_namespace);
      expand_vantage_slos(e.slos, vantage_plans);
    } catch (const kube::ApiError& ex) {
      precheck_error = ex.what();
    }
  }

  RunContext run;
  on_signal([&run](const std::string& sig) { run.request_stop(sig); });
  SignalScope signals;  // every return: the callback must not outlive `run`
  reports::RunRecord rec;
  rec.faultline_version = FAULTLINE_VERSION;
  rec.run_id = run_id;
  rec.experiment = e.name;
  rec.experiment_file = o.experiment_file;
  rec.script = e.script;
  rec.params = e.params;
  rec.target = target_json(e);
  rec.cluster_context = client.config().context_name;
  rec.cluster_server = client.config().server;
  rec.started_at = utc_stamp("%Y-%m-%dT%H:%M:%SZ");
  std::string out_dir =
      o.output_dir.empty()
          ? (fs::path("faultline-reports") / (e.name + "-" + utc_stamp("%Y%m%dT%H%M%SZ"))).string()
          : o.output_dir;
  std::unique_ptr<reports::RunMetrics> metrics;
  if (o.metrics_port > 0 || !o.pushgateway.empty()) {
    metrics = std::make_unique<reports::RunMetrics>();
    metrics->start(e.name, rec.cluster_context.empty() ? rec.cluster_server : rec.cluster_context);
    if (o.metrics_port > 0) {
      int port = metrics->serve(o.metrics_port, o.metrics_bind);
      log::info("serving metrics on " + o.metrics_bind + ":" + std::to_string(port) + "/metrics");
    }
  }
  Phases phases(rec, run);
  auto fail_early = [&](const std::string& result, int code, const std::string& error) {
    phases.end_current("failed", error);
    rec.result = result;
    rec.exit_code = code;
    rec.error = error;
    rec.rollback.complete = true;
    log::error(error);
    return finish(rec, o, run, metrics.get(), out_dir);
  };

  phases.begin("connect");
  rec.kubernetes_version = kubernetes_version;
  if (!connect_error.empty())
    return fail_early("error", kClusterError, "cannot reach the cluster: " + connect_error);

  // Before the lock, the journal, the events or any fault: nothing touched.
  phases.begin("preconditions");
  if (!precheck_error.empty())
    return fail_early("error", kClusterError,
                      "checking the preconditions: Kubernetes API: " + precheck_error);
  if (!refusals.empty()) {
    std::string why;
    for (const auto& r : refusals) why += (why.empty() ? "" : "; ") + r;
    return fail_early(
        "failed", kSloFailed,
        "steady state does not hold before any fault: " + why + " (refused: nothing was touched)");
  }

  phases.begin("lock");
  chaos::RunLock lock(client, o.state_namespace, rec.run_id + chaos::local_holder_suffix());
  // A lost lock stops the drill at once: abort → rollback → exit 3.
  lock.on_lost([&run](const std::string& why) { run.request_stop(why); });
  try {
    chaos::ensure_namespace(client, chaos::kLockNamespace);
    chaos::ensure_namespace(client, o.state_namespace);
    // Called only once the lease is ours: exactly what the stale holder's
    // run journaled or annotated is rolled back.
    auto take_over = [&](const chaos::StaleHolder& stale) {
      auto ns = stale.state_namespace.empty() ? o.state_namespace : stale.state_namespace;
      auto report = chaos::recover_run(client, ns, stale.run_id, std::chrono::seconds(120), 32,
                                       dr::drill_undo(client, {o.kube, {}}));
      if (!report.complete())
        throw std::runtime_error("the previous drill's rollback is incomplete: " +
                                 report.remaining.front() + " (run `faultline recover`)");
    };
    lock.acquire(take_over, run.stop_token());
    // A journal without a live lock (its runner was SIGKILLed and the lease
    // deleted or expired) is undone before we touch anything: none of those
    // runs is live, the lock being cluster-wide.
    auto report =
        chaos::recover_journaled(client, o.state_namespace, rec.run_id, std::chrono::seconds(120),
                                 32, dr::drill_undo(client, {o.kube, {}}));
    if (!report.complete())
      throw std::runtime_error("the previous drill's rollback is incomplete: " +
                               report.remaining.front() + " (run `faultline recover`)");
  } catch (const chaos::LockHeldError& ex) {
    return fail_early("error", kClusterError, ex.what());
  } catch (const kube::ApiError& ex) {
    return fail_early("error", kClusterError,
                      std::string("cannot take the drill lock: ") + ex.what());
  } catch (const std::exception& ex) {
    return fail_early("rollback_incomplete", kRollbackIncomplete, ex.what());
  }

  // The journal and the Events are written only once the steady state held:
  // a drill refused at preflight leaves nothing behind but its report.
  chaos::Journal journal(
      client, o.state_namespace, rec.run_id,
      {{"experiment", e.name}, {"file", o.experiment_file}, {"started_at", rec.started_at}});
  journal.set_gate([&lock] { lock.check_valid(); });
  bool journal_opened = false, started = false;
  EventRecorder events(client, e.target.namespace_, e.target.selector);

  // Declared before the chaos that reports evictions into it: it outlives it.
  std::unique_ptr<observe::Observer> observer;
  chaos::ChaosOptions copts;
  copts.run_id = rec.run_id;
  copts.guards = e.guards;
  copts.clock = [&run] { return run.now(); };
  copts.stop = run.stop_token();
  // Set before any fault (the script starts after the observer): the drain's
  // worker threads only read the pointer.
  copts.on_evicted = [&observer](const std::string& ns, const std::string& name,
                                 const std::string& node, double t) {
    if (observer) observer->add_eviction(ns, name, node, t);
  };
  chaos::Chaos chaos(client, journal, copts);
  std::optional<dr::Drill> drill;
  if (e.dr) {
    dr::DrillOptions dopts;
    dopts.run_id = rec.run_id;
    dopts.velero_namespace = e.dr->velero_namespace;
    dopts.clock = [&run] { return run.now(); };
    dopts.disaster_namespaces = e.guards.namespaces;  // the guards bound the disaster too
    drill.emplace(dr::Cluster{"", client, o.kube.context}, dr_clusters, &journal, dopts);
  }
  chaos.on_fault([&](const std::string& label) {
    run.add_marker("fault", label);
    events.emit("FaultInjected", label + " (drill " + rec.run_id + ")", true);
  });

  observe::ObserveContext octx;
  octx.client = &client;
  octx.namespace_ = e.target.namespace_;
  octx.selector = e.target.selector;
  octx.service = e.target.service;
  octx.t0 = run.t0();
  std::string error;
  int code = kPassed;
  std::string result = "passed";
  // Set by the abort watcher's thread: an abort usually arrives as an
  // exception out of the script (the watcher is gone by the report), and the
  // report must still show the breaching sample, not just the stop reason.
  std::mutex breach_mutex;
  std::optional<slo::AbortBreach> breach;

  // The script's thread and what it uses live until the end of run(): a
  // script abandoned after a stop may still be running (see ScriptThread).
  std::optional<ScriptHost> host;
  std::unique_ptr<ScriptThread> script;
  std::optional<VantageFleet> vantages;

  // Everything from here on is followed by rollback, whatever happens.
  try {
    observer = std::make_unique<observe::Observer>(e.probes, octx);
    observer->start();
    if (!vantage_plans.empty()) {
      // The vantage pods are the run's first mutation: journaled before
      // they exist, so the journal opens before the preflight here.
      phases.begin("vantages");
      journal.open();
      journal_opened = true;
      vantages.emplace(client, journal, vantage_plans, observer->timeline(), run.t0(),
                       [&run] { return run.now(); });
      vantages->start(run.stop_token(), std::chrono::seconds(90));
    }
    observe::ProgressLine progress(std::cerr, o.progress && observe::ProgressLine::stderr_is_tty());
    std::jthread progress_thread([&](std::stop_token st) {
      while (interruptible_sleep(st, 0.5)) {
        auto [phase, waiting] = run.phase();
        progress.update({phase, waiting, observer->live()});
      }
    });

    phases.begin("preflight");
    auto unlisted = wait_for_first_lists(*observer, run.stop_token(), kFirstListsAtMost);
    if (run.stop_token().stop_requested()) throw AbortedError(run.stop_reason());
    if (!unlisted.empty() && observer->failures().empty()) {
      std::string names;
      for (const auto& n : unlisted) names += (names.empty() ? "" : ", ") + n;
      std::string why = "probe(s) " + names + " had no first list after " +
                        std::to_string(static_cast<int>(kFirstListsAtMost)) + " s";
      phases.end_current("failed", why);
      throw std::domain_error("steady state unknown before any fault: " + why);
    }
    if (!interruptible_sleep(run.stop_token(), e.timing.warmup.count()))
      throw AbortedError(run.stop_reason());
    double warm_to = run.now();
    auto steady =
        slo::steady_state(e.slos, observer->snapshot(), warm_to - e.timing.warmup.count(), warm_to);
    if (!steady.holds) {
      phases.end_current("failed", steady.failures());
      throw std::domain_error("steady state does not hold before any fault: " + steady.failures());
    }
    // A probe that could not run (a watch refused with 4xx, a bad URL) proves
    // nothing: the steady state is unknown, so it does not hold.
    for (const auto& f : observer->failures())
      if (f.t <= warm_to) {
        phases.end_current("failed", f.probe + ": " + f.message);
        throw std::domain_error("steady state does not hold before any fault: probe " + f.probe +
                                " cannot run: " + f.message);
      }

    // What `faultline plan` predicts, from the cluster as it is now
    // (read-only); the report grades it against what this run measures.
    try {
      rec.prediction = plan::to_json(
          predict_experiment(e, client, resolve_scripts_dir(o.experiment_file, o.scripts_dir)));
    } catch (const std::exception& ex) {
      log::warn(std::string("no prediction: ") + ex.what());
      rec.prediction = nlohmann::json{
          {"verdict", "unknown"}, {"error", ex.what()}, {"slos", nlohmann::json::array()}};
    }

    if (!journal_opened) journal.open();  // an ApiError here: exit 4, nothing was touched yet
    journal_opened = true;
    events.emit("DrillStarted", "faultline drill " + rec.run_id + " started (" + e.script + ")",
                false);
    started = true;

    slo::AbortWatcher watcher(*observer, slo::AbortMonitor(e.aborts),
                              [&](const slo::AbortBreach& b) {
                                {
                                  std::lock_guard lock(breach_mutex);
                                  if (!breach) breach = b;
                                }
                                run.request_stop("stop condition breached: " + b.message);
                              });
    watcher.start();

    phases.begin("inject");
    host.emplace(client, chaos, observer.get(), e, run);
    if (drill) host->set_drill(&*drill);
    script = std::make_unique<ScriptThread>(
        [&] { lua->run(e.script, *host, e.params, target_json(e), run.stop_token()); });
    if (!script->wait(run.stop_token(), kScriptGrace)) {
      std::string why = "the script did not stop within " + std::to_string(kScriptGrace.count()) +
                        "ms of the stop: rolling back without it";
      log::warn(why);
      run.add_log(why);
      throw AbortedError(run.stop_reason() + " (" + why + ")");
    }

    phases.begin("observe");
    // Recovery: until every replacement SLO holds, or timing.recovery.
    double until = run.now() + e.timing.recovery.count();
    while (run.now() < until) {
      auto snap = observer->snapshot();
      auto window = slo::EvalWindow::verify(snap, run.now());
      bool recovered = true;
      for (const auto& s : e.slos)
        if (s.kind == slo::SloKind::Replacement)
          recovered = recovered && slo::evaluate(s, snap, window).passed;
      if (recovered) break;
      if (!interruptible_sleep(run.stop_token(), 0.5)) throw AbortedError(run.stop_reason());
    }
    if (!interruptible_sleep(run.stop_token(), e.timing.cooldown.count()))
      throw AbortedError(run.stop_reason());
    watcher.stop();
    if (std::lock_guard lock(breach_mutex); breach) throw AbortedError(run.stop_reason());

    phases.begin("verify");
    // What the vantages owed and never sent is judged with the rest.
    if (vantages) vantages->finish(run.now());
    auto snap = observer->snapshot();
    rec.slos = slo::evaluate_all(e.slos, snap, slo::EvalWindow::verify(snap, run.now()));
    for (size_t i = 0; i < e.slos.size(); ++i) {
      if (e.slos[i].dr())
        rec.slos[i] = slo::evaluate_dr(e.slos[i], drill ? drill->record() : nlohmann::json());
    }
    for (const auto& s : rec.slos)
      if (!s.passed) {
        result = "failed";
        code = kSloFailed;
        error += (error.empty() ? "" : "; ") + s.name + ": measured " + s.measured_text +
                 ", bound " + s.bound_text;
      }
    if (!error.empty()) error = "SLO failed: " + error;
  } catch (const AbortedError& ex) {
    result = "aborted";
    code = kAborted;
    error = run.stop_reason().empty() ? ex.what() : run.stop_reason();
    run.add_marker("abort", error);
    phases.end_current("aborted", error);
  } catch (const chaos::LockLostError& ex) {
    result = "aborted", code = kAborted;
    error = run.stop_reason().empty() ? ex.what() : run.stop_reason();
    run.request_stop(error);
    run.add_marker("abort", error);
    phases.end_current("aborted", error);
  } catch (const script::ScriptError& ex) {
    if (run.stop_token().stop_requested()) {
      result = "aborted", code = kAborted, error = run.stop_reason();
      run.add_marker("abort", error);
    } else if (host && !host->guard_refusal().empty() && !made_a_fault(journal.entries())) {
      // A guard refused the first fault: the input asks for more than the
      // guards allow, and nothing was touched.
      result = "error", code = kInvalidInput,
      error = "refused before touching anything: " + host->guard_refusal();
    } else {
      result = "error", code = kSloFailed, error = std::string("script error: ") + ex.what();
    }
    phases.end_current("failed", error);
  } catch (const VantageError& ex) {
    result = "error", code = kClusterError, error = ex.what();
    phases.end_current("failed", error);
  } catch (const std::domain_error& ex) {  // steady state
    result = "failed", code = kSloFailed, error = ex.what();
  } catch (const kube::ApiError& ex) {
    result = "error", code = kClusterError, error = std::string("Kubernetes API: ") + ex.what();
    phases.end_current("failed", error);
  } catch (const std::exception& ex) {
    result = "error", code = kSloFailed, error = ex.what();
    phases.end_current("failed", error);
  }

  // ---- rollback: on every path ----
  on_signal([](const std::string&) {});  // a second SIGTERM must not interrupt rollback
  phases.begin("rollback");
  run.add_marker("rollback", "rollback");
  // No fault may start from here on, and one still in flight is waited for.
  if (!journal.close_mutations(kScriptGrace))
    log::warn("a fault was still being applied at rollback; rolling back anyway");
  // The drill's backups, restores and restored namespaces first: its
  // journal entries are then done, and chaos's rollback skips them.
  // The vantages stop reporting when their pods go: what they owed until
  // now and never sent is counted as lost, before the pods are deleted.
  if (vantages) {
    vantages->finish(run.now());  // a no-op after verify's
    for (const auto& line : vantages->summaries()) {
      log::info(line);
      run.add_log(line);
    }
  }
  std::vector<std::string> dr_left;
  if (drill) dr_left = drill->rollback(kRollbackDeadline);
  auto outcome = chaos.rollback(kRollbackDeadline);
  if (!dr_left.empty()) {
    outcome.complete = false;
    outcome.remaining.insert(outcome.remaining.end(), dr_left.begin(), dr_left.end());
  }
  // Exit 5 only for what is really left: once everything is restored the
  // journal has nothing to undo, whether or not it can still be written.
  try {
    if (journal_opened || !journal.entries().empty()) {
      if (outcome.complete)
        journal.close();
      else
        journal.persist();
    }
  } catch (const std::exception& ex) {
    if (outcome.complete)
      log::warn(
          std::string("deleting the journal failed (nothing in it is left to undo; the next run or "
                      "`faultline recover` clears it): ") +
          ex.what());
    else
      outcome.remaining.push_back(std::string("journal: ") + ex.what());
  }
  rec.rollback.complete = outcome.complete;
  rec.rollback.remaining = outcome.remaining;
  if (observer) {
    observer->mark_fault_end(run.now());
    interruptible_sleep({}, 1.0);  // the timeline shows the cluster after rollback
    observer->stop();
  }
  phases.end_current(outcome.complete ? "ok" : "failed");
  try {
    lock.release();
  } catch (const std::exception& ex) {
    log::warn(std::string("releasing the lock: ") + ex.what());
  }
  if (!outcome.complete) {
    result = "rollback_incomplete";
    code = kRollbackIncomplete;
    error += (error.empty() ? "" : "; ") + std::string("rollback incomplete: ") +
             outcome.remaining.front() + " (run `faultline recover`)";
  }
  if (started)
    events.emit("DrillRolledBack", outcome.complete ? "rollback complete" : "rollback INCOMPLETE",
                !outcome.complete);

  phases.begin("report");
  // The vantage pods are the run's probes, not faults: the log and the
  // rollback account for them.
  std::vector<chaos::JournalEntry> fault_entries;
  for (const auto& entry : journal.entries())
    if (!is_vantage_pod(entry)) fault_entries.push_back(entry);
  rec.faults = fault_records(fault_entries);
  if (drill) rec.dr = drill->record();
  if (breach)
    rec.abort = breach->record();
  else if (result == "aborted")  // the reason once: "SIGTERM", not "SIGTERM — SIGTERM"
    rec.abort = reports::AbortRecord{run.stop_reason(), run.now(), "",
                                     error == run.stop_reason() ? "" : error};
  if (observer) {
    auto snap = observer->take_timeline();  // stopped above: nothing samples any more
    rec.series = observe::to_series(snap);
    for (const auto& s : rec.slos) {
      if (s.kind == "availability" && s.measured && !rec.availability_ratio)
        rec.availability_ratio = s.measured;
      if (s.kind == "replacement" && s.measured) rec.replacement_seconds = s.measured;
    }
  }
  rec.events = events.seen_since(rec.started_at);
  rec.result = result;
  rec.exit_code = code;
  rec.error = error;
  if (started)
    events.emit("DrillFinished", "result: " + result + (error.empty() ? "" : " — " + error),
                code != 0);
  phases.end_current("ok");
  int exit_code = finish(rec, o, run, metrics.get(), out_dir);
  if (script && !script->finished()) {
    // The abandoned script still runs inside a C call and uses this frame's
    // objects: end the process here rather than destroy them under it.
    std::cout.flush();
    std::cerr.flush();
    std::fflush(nullptr);
    std::_Exit(exit_code);
  }
  return exit_code;
}

int validate(const std::string& file, const CommonOptions& options) {
  std::unique_ptr<script::LuaHost> lua;
  Experiment e = load(file, options, nullptr, lua);
  std::cout << file << ": valid (experiment " << e.name << ", script " << e.script << ", "
            << e.probes.size() << " probe(s), " << e.slos.size() << " SLO(s), " << e.aborts.size()
            << " stop condition(s))\n";
  return kPassed;
}

int recover(const CommonOptions& options) {
  kube::Client client(kube::load_config(options.kube));
  // SIGTERM/SIGINT stop the recovery between undos: what is left stays
  // journaled for the next `recover`, and the lock is released.
  std::stop_source stop;
  std::string stopped_by;
  std::mutex stop_mutex;
  on_signal([&](const std::string& sig) {
    {
      std::lock_guard lock(stop_mutex);
      if (stopped_by.empty()) stopped_by = sig;
    }
    stop.request_stop();
  });
  SignalScope signals;
  chaos::RunLock lock(client, options.state_namespace,
                      "faultline-recover" + chaos::local_holder_suffix());
  chaos::RecoveryReport r;
  try {
    chaos::ensure_namespace(client, chaos::kLockNamespace);
    lock.acquire([](const chaos::StaleHolder&) {}, stop.get_token());
    // A restore drill's entries in the clusters they name (their contexts
    // from this kubeconfig, or --context-for).
    r = chaos::recover_all(client, options.state_namespace, "", std::chrono::seconds(120), 32,
                           stop.get_token(),
                           dr::drill_undo(client, {options.kube, options.context_for}));
  } catch (const chaos::LockHeldError& e) {
    std::cerr << "faultline recover: " << e.what() << "\n";
    return stop.stop_requested() ? kAborted : kClusterError;
  }
  lock.release();
  std::cout << "recover: " << r.journals_found << " journal(s) found, " << r.journals_cleared
            << " rolled back and cleared, " << r.nodes_swept << " annotated node(s) restored\n";
  for (const auto& left : r.remaining) std::cout << "  NOT undone: " << left << "\n";
  if (stop.stop_requested()) {
    std::lock_guard lk(stop_mutex);
    std::cout << "recover: stopped by " << stopped_by
              << "; run `faultline recover` again for what is left\n";
    return kAborted;
  }
  return r.complete() ? kPassed : kRollbackIncomplete;
}

}  // namespace faultline::experiment
