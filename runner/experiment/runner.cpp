#include "runner/experiment/runner.h"

#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

#include "reports/metrics.h"
#include "reports/render.h"
#include "reports/run_record.h"
#include "runner/chaos/chaos.h"
#include "runner/chaos/lock.h"
#include "runner/chaos/rollback.h"
#include "runner/common/error.h"
#include "runner/common/log.h"
#include "runner/experiment/events.h"
#include "runner/experiment/host.h"
#include "runner/experiment/plan.h"
#include "runner/experiment/run_context.h"
#include "runner/experiment/signals.h"
#include "runner/experiment/spec.h"
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

Experiment load(const std::string& file, const CommonOptions& options, script::LuaHost** host_out,
                std::unique_ptr<script::LuaHost>& host) {
  Experiment e = parse_experiment_file(file);
  for (const auto& p : options.params) apply_param_override(e, p);
  std::string dir = resolve_scripts_dir(file, options.scripts_dir);
  if (!fs::exists(fs::path(dir) / e.script))
    throw InputError(file + ": spec.script: " + e.script + " not found in the scripts directory " + dir +
                     " (set --scripts)");
  host = std::make_unique<script::LuaHost>(dir);
  host->check(e.script);  // compiled, not run
  if (host_out) *host_out = host.get();
  return e;
}

bool interruptible_sleep(std::stop_token stop, double seconds) {
  std::mutex m;
  std::condition_variable_any cv;
  std::unique_lock lock(m);
  cv.wait_for(lock, stop, std::chrono::duration<double>(seconds), [] { return false; });
  return !stop.stop_requested();
}

json target_json(const Experiment& e) {
  return {{"namespace", e.target.namespace_}, {"selector", e.target.selector}, {"service", e.target.service}};
}

void fill_faults(reports::RunRecord& rec, const std::vector<chaos::JournalEntry>& entries) {
  for (const auto& e : entries) {
    reports::FaultRecord f;
    f.id = e.id;
    f.action = e.action + "_" + e.kind;
    f.target = e.kind + "/" + (e.ns.empty() ? "" : e.ns + "/") + e.name;
    f.applied = std::max(0.0, e.t_applied);
    if (e.t_reverted >= 0) f.rolled_back = e.t_reverted;
    if (e.state == "reverted") f.status = "rolled_back";
    else if (e.state == "not_reversible") f.status = "not_reversible";
    else if (e.state == "skipped") f.status = "skipped";
    else if (e.state == "failed") f.status = "rollback_failed";
    else f.status = "applied";
    if (!e.note.empty()) f.error = e.note;
    f.detail = {{"journal_state", e.state}};
    rec.faults.push_back(f);
  }
}

class Phases {
 public:
  Phases(reports::RunRecord& rec, RunContext& run) : rec_(rec), run_(run) {}
  void begin(const std::string& name) {
    end_current("ok");
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

int finish(reports::RunRecord& rec, const RunOptions& o, RunContext& run, reports::RunMetrics* metrics,
           const std::string& out_dir) {
  rec.ended_at = utc_stamp("%Y-%m-%dT%H:%M:%SZ");
  rec.duration_seconds = run.now();
  for (const auto& m : run.markers()) rec.markers.push_back(m);
  rec.log = run.log();
  try {
    reports::write_all(rec, out_dir);
    log::info("reports written to " + out_dir + " (report.html, report.json, junit.xml, summary.md)");
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
  kube::Client client(kube::load_config(o.kube));            // InputError → exit 2

  RunContext run;
  on_signal([&run](const std::string& sig) { run.request_stop(sig); });
  reports::RunRecord rec;
  rec.faultline_version = FAULTLINE_VERSION;
  rec.run_id = make_run_id(e.name);
  rec.experiment = e.name;
  rec.experiment_file = o.experiment_file;
  rec.script = e.script;
  rec.params = e.params;
  rec.target = target_json(e);
  rec.cluster_context = client.config().context_name;
  rec.cluster_server = client.config().server;
  rec.started_at = utc_stamp("%Y-%m-%dT%H:%M:%SZ");
  std::string out_dir = o.output_dir.empty()
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
  try {
    rec.kubernetes_version = client.server_version().value("gitVersion", "");
  } catch (const std::exception& ex) {
    return fail_early("error", kClusterError, std::string("cannot reach the cluster: ") + ex.what());
  }

  phases.begin("lock");
  chaos::RunLock lock(client, o.state_namespace, rec.run_id + chaos::local_holder_suffix());
  try {
    std::vector<std::string> leftovers;
    auto take_over = [&](const std::string&) {
      auto report = chaos::recover_all(client, o.state_namespace, rec.run_id, std::chrono::seconds(120), 32);
      if (!report.complete())
        throw std::runtime_error("the previous drill's rollback is incomplete: " + report.remaining.front() +
                                 " (run `faultline recover`)");
    };
    chaos::ensure_namespace(client, o.state_namespace);
    lock.acquire(take_over);
    // A journal without a live lock (its runner was SIGKILLed and the lease
    // deleted or expired) is undone before we touch anything.
    take_over("");
  } catch (const chaos::LockHeldError& ex) {
    return fail_early("error", kClusterError, ex.what());
  } catch (const kube::ApiError& ex) {
    return fail_early("error", kClusterError, std::string("cannot take the drill lock: ") + ex.what());
  } catch (const std::exception& ex) {
    return fail_early("rollback_incomplete", kRollbackIncomplete, ex.what());
  }

  chaos::Journal journal(client, o.state_namespace, rec.run_id,
                         {{"experiment", e.name}, {"file", o.experiment_file}, {"started_at", rec.started_at}});
  try {
    journal.open();
  } catch (const std::exception& ex) {
    return fail_early("error", kClusterError, std::string("cannot write the journal: ") + ex.what());
  }
  EventRecorder events(client, e.target.namespace_, e.target.selector);
  events.emit("DrillStarted", "faultline drill " + rec.run_id + " started (" + e.script + ")", false);

  chaos::ChaosOptions copts;
  copts.run_id = rec.run_id;
  copts.guards = e.guards;
  copts.clock = [&run] { return run.now(); };
  copts.stop = run.stop_token();
  chaos::Chaos chaos(client, journal, copts);
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
  std::unique_ptr<observe::Observer> observer;
  std::string error;
  int code = kPassed;
  std::string result = "passed";
  // Set by the abort watcher's thread: an abort usually arrives as an
  // exception out of the script (the watcher is gone by the report), and the
  // report must still show the breaching sample, not just the stop reason.
  std::mutex breach_mutex;
  std::optional<slo::AbortBreach> breach;

  // Everything from here on is followed by rollback, whatever happens.
  try {
    observer = std::make_unique<observe::Observer>(e.probes, octx);
    observer->start();
    observe::ProgressLine progress(std::cerr, o.progress && observe::ProgressLine::stderr_is_tty());
    std::jthread progress_thread([&](std::stop_token st) {
      while (interruptible_sleep(st, 0.5)) {
        auto [phase, waiting] = run.phase();
        progress.update({phase, waiting, observer->live()});
      }
    });

    phases.begin("preflight");
    if (!interruptible_sleep(run.stop_token(), e.timing.warmup.count())) throw AbortedError(run.stop_reason());
    double warm_to = run.now();
    auto steady = slo::steady_state(e.slos, observer->snapshot(), warm_to - e.timing.warmup.count(), warm_to);
    if (!steady.holds) {
      phases.end_current("failed", steady.failures());
      throw std::domain_error("steady state does not hold before any fault: " + steady.failures());
    }

    // What `faultline plan` predicts, from the cluster as it is now
    // (read-only); the report grades it against what this run measures.
    try {
      rec.prediction = plan::to_json(predict_experiment(e, client, resolve_scripts_dir(o.experiment_file, o.scripts_dir)));
    } catch (const std::exception& ex) {
      log::warn(std::string("no prediction: ") + ex.what());
      rec.prediction = nlohmann::json{{"verdict", "unknown"}, {"error", ex.what()}, {"slos", nlohmann::json::array()}};
    }

    slo::AbortWatcher watcher(*observer, slo::AbortMonitor(e.aborts), [&](const slo::AbortBreach& b) {
      {
        std::lock_guard lock(breach_mutex);
        if (!breach) breach = b;
      }
      run.request_stop("stop condition breached: " + b.message);
    });
    watcher.start();

    phases.begin("inject");
    ScriptHost host(client, chaos, observer.get(), e, run);
    lua->run(e.script, host, e.params, target_json(e), run.stop_token());

    phases.begin("observe");
    // Recovery: until every replacement SLO holds, or timing.recovery.
    double until = run.now() + e.timing.recovery.count();
    while (run.now() < until) {
      auto snap = observer->snapshot();
      auto window = slo::EvalWindow::verify(snap, run.now());
      bool recovered = true;
      for (const auto& s : e.slos)
        if (s.kind == slo::SloKind::Replacement) recovered = recovered && slo::evaluate(s, snap, window).passed;
      if (recovered) break;
      if (!interruptible_sleep(run.stop_token(), 0.5)) throw AbortedError(run.stop_reason());
    }
    if (!interruptible_sleep(run.stop_token(), e.timing.cooldown.count())) throw AbortedError(run.stop_reason());
    watcher.stop();
    if (std::lock_guard lock(breach_mutex); breach) throw AbortedError(run.stop_reason());

    phases.begin("verify");
    auto snap = observer->snapshot();
    rec.slos = slo::evaluate_all(e.slos, snap, slo::EvalWindow::verify(snap, run.now()));
    for (const auto& s : rec.slos)
      if (!s.passed) {
        result = "failed";
        code = kSloFailed;
        error += (error.empty() ? "" : "; ") + s.name + ": measured " + s.measured_text + ", bound " + s.bound_text;
      }
    if (!error.empty()) error = "SLO failed: " + error;
  } catch (const AbortedError& ex) {
    result = "aborted";
    code = kAborted;
    error = run.stop_reason().empty() ? ex.what() : run.stop_reason();
    run.add_marker("abort", error);
    phases.end_current("aborted", error);
  } catch (const script::ScriptError& ex) {
    if (run.stop_token().stop_requested()) {
      result = "aborted", code = kAborted, error = run.stop_reason();
      run.add_marker("abort", error);
    } else {
      result = "error", code = kSloFailed, error = std::string("script error: ") + ex.what();
    }
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
  auto outcome = chaos.rollback(std::chrono::seconds(120));
  try {
    journal.persist();
    if (outcome.complete) journal.close();
  } catch (const std::exception& ex) {
    outcome.complete = false;
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
    error += (error.empty() ? "" : "; ") + std::string("rollback incomplete: ") + outcome.remaining.front() +
             " (run `faultline recover`)";
  }
  events.emit("DrillRolledBack", outcome.complete ? "rollback complete" : "rollback INCOMPLETE", !outcome.complete);

  phases.begin("report");
  fill_faults(rec, journal.entries());
  if (breach) rec.abort = breach->record();
  else if (result == "aborted") rec.abort = reports::AbortRecord{run.stop_reason(), run.now(), "", error};
  if (observer) {
    auto snap = observer->snapshot();
    rec.series = observe::to_series(snap);
    for (const auto& s : rec.slos) {
      if (s.kind == "availability" && s.measured && !rec.availability_ratio) rec.availability_ratio = s.measured;
      if (s.kind == "replacement" && s.measured) rec.replacement_seconds = s.measured;
    }
  }
  rec.events = events.seen_since(rec.started_at);
  rec.result = result;
  rec.exit_code = code;
  rec.error = error;
  events.emit("DrillFinished", "result: " + result + (error.empty() ? "" : " — " + error), code != 0);
  phases.end_current("ok");
  on_signal(nullptr);
  return finish(rec, o, run, metrics.get(), out_dir);
}

int validate(const std::string& file, const CommonOptions& options) {
  std::unique_ptr<script::LuaHost> lua;
  Experiment e = load(file, options, nullptr, lua);
  std::cout << file << ": valid (experiment " << e.name << ", script " << e.script << ", " << e.probes.size()
            << " probe(s), " << e.slos.size() << " SLO(s), " << e.aborts.size() << " stop condition(s))\n";
  return kPassed;
}

int recover(const CommonOptions& options) {
  kube::Client client(kube::load_config(options.kube));
  chaos::RunLock lock(client, options.state_namespace, "faultline-recover" + chaos::local_holder_suffix());
  auto report_ptr = std::make_shared<chaos::RecoveryReport>();
  try {
    lock.acquire([&](const std::string&) {});
    *report_ptr = chaos::recover_all(client, options.state_namespace, "", std::chrono::seconds(120), 32);
  } catch (const chaos::LockHeldError& e) {
    std::cerr << "faultline recover: " << e.what() << "\n";
    return kClusterError;
  }
  lock.release();
  const auto& r = *report_ptr;
  std::cout << "recover: " << r.journals_found << " journal(s) found, " << r.journals_cleared << " rolled back and cleared, "
            << r.nodes_swept << " annotated node(s) restored\n";
  for (const auto& left : r.remaining) std::cout << "  NOT undone: " << left << "\n";
  return r.complete() ? kPassed : kRollbackIncomplete;
}

}  // namespace faultline::experiment
