// faultline: the CLI, a thin shell over runner/experiment and reports/.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <stop_token>
#include <string>
#include <vector>

#include "reports/render.h"
#include "reports/run_record_io.h"
#include "runner/common/error.h"
#include "runner/common/log.h"
#include "runner/common/malloc_arenas.h"
#include "runner/dr/recover.h"
#include "runner/experiment/runner.h"
#include "runner/experiment/signals.h"
#include "runner/kube/errors.h"
#include "runner/probe/vantage_probe.h"

namespace {

using namespace faultline;

const char* kUsage = R"(faultline — chaos / disaster-recovery drills for Kubernetes

usage:
  faultline run      EXPERIMENT.yaml [flags]   run a drill: inject, observe, verify, roll back, report
  faultline validate EXPERIMENT.yaml [flags]   check the spec and compile the script; touches nothing
  faultline plan     EXPERIMENT.yaml [flags]   predict each SLO's outcome from the cluster as it is (read-only)
                     [--output text|json]
  faultline recover  [flags]                   undo what a dead run left (from the journal)
                     [--context-for NAME=CONTEXT]  a restore drill's other cluster (spec.dr.clusters
                     NAME) through this context, not the one its journal recorded (repeatable)
  faultline report   report.json --format html|junit|md|json [-o FILE]
  faultline probe    --url URL --rate 20/s [--timeout 1s] [--duration D] [--zone Z] [--no-keepalive]
                     requests at a fixed rate; one JSON line per request on stdout
                     (wall-clock stamped: what a per-zone vantage pod runs)
  faultline version

flags (kubectl's where they exist):
  --kubeconfig FILE     kubeconfig (else $KUBECONFIG, else ~/.kube/config, else in-cluster)
  --context NAME        kubeconfig context
  -n, --namespace NS    namespace for the kubeconfig context's default
  --scripts DIR         Lua scripts directory (default: lua-scripts/ beside the experiments folder)
  --param KEY=VALUE     override spec.params (repeatable)
  --output-dir DIR      where reports go (default ./faultline-reports/<name>-<time>/)
  --dry-run             run: only plan, touch nothing
  --metrics-port PORT   serve Prometheus /metrics during the run
  --pushgateway URL     push the run's metrics to a Pushgateway at the end
  --state-namespace NS  namespace of the drill lock and journal (default faultline)
  --no-progress         plain log lines only
  -v                    debug logging

exit codes: 0 SLOs met · 1 an SLO failed · 2 invalid input · 3 aborted (rolled back)
            4 cluster unreachable or refused · 5 rollback incomplete (run `faultline recover`)
)";

struct Args {
  std::string command;
  std::vector<std::string> positional;
  experiment::RunOptions run;
  bool dry_run = false;
  std::string format, out_file;
};

Args parse_args(int argc, char** argv) {
  Args a;
  if (argc < 2)
    throw InputError("missing command (run, validate, plan, recover, report, version); see --help");
  a.command = argv[1];
  if (const char* gw = std::getenv("FAULTLINE_METRICS_PUSHGATEWAY"); gw && *gw)
    a.run.pushgateway = gw;
  for (int i = 2; i < argc; ++i) {
    std::string f = argv[i];
    auto value = [&](const std::string& name) -> std::string {
      if (auto eq = f.find('='); eq != std::string::npos && f.rfind("--", 0) == 0)
        return f.substr(eq + 1);
      if (i + 1 >= argc) throw InputError(name + ": expected a value");
      return argv[++i];
    };
    auto is = [&](const char* name) {
      return f == name || f.rfind(std::string(name) + "=", 0) == 0;
    };
    if (is("--kubeconfig"))
      a.run.kube.kubeconfig = value("--kubeconfig");
    else if (is("--context"))
      a.run.kube.context = value("--context");
    else if (f == "-n" || is("--namespace"))
      a.run.kube.namespace_override = value("--namespace");
    else if (is("--scripts"))
      a.run.scripts_dir = value("--scripts");
    else if (is("--param"))
      a.run.params.push_back(value("--param"));
    else if (is("--context-for"))
      a.run.context_for.insert(dr::parse_context_for(value("--context-for")));
    else if (is("--output-dir"))
      a.run.output_dir = value("--output-dir");
    else if (is("--state-namespace"))
      a.run.state_namespace = value("--state-namespace");
    else if (is("--pushgateway"))
      a.run.pushgateway = value("--pushgateway");
    else if (is("--metrics-port")) {
      std::string v = value("--metrics-port");
      try {
        a.run.metrics_port = std::stoi(v);
      } catch (const std::exception&) {
        throw InputError("--metrics-port: expected a port number, got \"" + v + "\"");
      }
      if (a.run.metrics_port <= 0 || a.run.metrics_port > 65535)
        throw InputError("--metrics-port: expected a port number, got \"" + v + "\"");
    } else if (is("--metrics-bind"))
      a.run.metrics_bind = value("--metrics-bind");
    else if (f == "--dry-run")
      a.dry_run = true;
    else if (f == "--no-progress")
      a.run.progress = false;
    else if (f == "-v" || f == "--verbose")
      log::set_level(log::Level::Debug);
    else if (is("--format"))
      a.format = value("--format");
    else if (f == "-o" || is("--output"))
      a.out_file = value("--output");
    else if (f == "-h" || f == "--help")
      a.command = "help";
    else if (!f.empty() && f[0] == '-')
      throw InputError("unknown flag " + f + " (see faultline --help)");
    else
      a.positional.push_back(f);
  }
  return a;
}

std::string one_file(const Args& a) {
  if (a.positional.size() != 1)
    throw InputError("faultline " + a.command + ": expected one experiment file, got " +
                     std::to_string(a.positional.size()));
  return a.positional[0];
}

int report_command(const Args& a) {
  if (a.positional.size() != 1) throw InputError("faultline report: expected one report.json");
  auto format = reports::parse_format(a.format.empty() ? "html" : a.format);
  if (!format)
    throw InputError("--format: expected html, junit, md or json, got \"" + a.format + "\"");
  auto record = reports::read_record(a.positional[0]);
  std::string text = reports::render(record, *format);
  if (a.out_file.empty()) {
    std::cout << text;
  } else {
    std::ofstream out(a.out_file);
    if (!(out << text)) throw std::runtime_error("cannot write " + a.out_file);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  common::tune_malloc();
  experiment::install_signal_handling();
  try {
    // probe has flags of its own (--url, --rate...), parsed by runner/probe.
    if (argc >= 2 && std::string(argv[1]) == "probe") {
      std::stop_source stop;
      experiment::SignalScope scope;
      experiment::on_signal([&](const std::string&) { stop.request_stop(); });
      return probe::run_vantage(probe::parse_vantage_args({argv + 2, argv + argc}), std::cout,
                                stop.get_token());
    }
    Args a = parse_args(argc, argv);
    if (a.command == "help" || a.command == "--help" || a.command == "-h") {
      std::cout << kUsage;
      return 0;
    }
    if (a.command == "version" || a.command == "--version") {
      std::cout << "faultline " << FAULTLINE_VERSION << "\n";
      return 0;
    }
    if (!a.run.context_for.empty() && a.command != "recover")
      throw InputError(
          "--context-for: only for faultline recover (a run takes its contexts from "
          "spec.dr.clusters)");
    if (a.command == "run") {
      a.run.experiment_file = one_file(a);
      if (a.dry_run) return experiment::plan(a.run.experiment_file, a.run);
      return experiment::run(a.run);
    }
    if (a.command == "validate") return experiment::validate(one_file(a), a.run);
    // For plan, --output names the format (text|json), not a file.
    if (a.command == "plan")
      return experiment::plan(one_file(a), a.run, a.out_file.empty() ? "text" : a.out_file);
    if (a.command == "recover") return experiment::recover(a.run);
    if (a.command == "report") return report_command(a);
    throw InputError("unknown command \"" + a.command +
                     "\" (run, validate, plan, recover, report, version)");
  } catch (const InputError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return experiment::kInvalidInput;
  } catch (const kube::ApiError& e) {
    std::cerr << "error: Kubernetes API: " << e.what() << "\n";
    return experiment::kClusterError;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return experiment::kClusterError;
  }
}
