#include "tests/e2e/experiments/experiment_env.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "runner/chaos/cluster_view.h"
#include "tests/e2e/cluster_env.h"

namespace faultline::testing {

namespace fs = std::filesystem;
namespace res = kube::resources;
using namespace std::chrono_literals;

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

// ---- Scratch -------------------------------------------------------------

Scratch::Scratch() {
  std::string tmpl = (fs::temp_directory_path() / "faultline-e2e-XXXXXX").string();
  if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
  root_ = tmpl;
  fs::create_directories(root_ / "experiments");
  fs::create_directories(root_ / "lua-scripts");
  for (const auto& entry : fs::directory_iterator(fs::path(source_dir()) / "lua-scripts"))
    if (entry.path().extension() == ".lua")
      fs::copy_file(entry.path(), root_ / "lua-scripts" / entry.path().filename());
}

Scratch::~Scratch() {
  if (::testing::Test::HasFailure()) {
    std::cerr << "[ scratch ] kept for inspection: " << root_ << "\n";
    return;
  }
  std::error_code ec;
  fs::remove_all(root_, ec);
}

std::string Scratch::experiment(const std::string& name, const std::string& yaml) const {
  auto p = root_ / "experiments" / (name + ".yaml");
  write_file(p, yaml);
  return p.string();
}

std::string Scratch::script(const std::string& file, const std::string& lua) const {
  auto p = root_ / "lua-scripts" / file;
  write_file(p, lua);
  return p.string();
}

std::string Scratch::output_dir() {
  return (root_ / ("out-" + std::to_string(++outputs_))).string();
}

// ---- ExperimentSpec --------------------------------------------------------

std::string ExperimentSpec::yaml() const {
  std::string y =
      "apiVersion: faultline.io/v1alpha1\nkind: Experiment\nmetadata:\n  name: " + name +
      "\nspec:\n  script: " + script + "\n";
  if (!params.empty()) y += "  params: " + params + "\n";
  y += "  target: " + target + "\n";
  auto list = [&](const char* key, const std::vector<std::string>& items) {
    if (items.empty()) return;
    y += std::string("  ") + key + ":\n";
    for (const auto& i : items) y += "    - " + i + "\n";
  };
  list("probes", probes);
  list("slos", slos);
  list("abort", aborts);
  if (!guards.empty()) y += "  guards: " + guards + "\n";
  if (!timing.empty()) y += "  timing: " + timing + "\n";
  return y;
}

// ---- nodes, journal, lock --------------------------------------------------

NodeSnapshot snapshot_nodes() {
  auto client = cluster_client();
  NodeSnapshot out;
  for (const auto& n : chaos::items(client.list(res::kNodes, ""))) {
    const auto& md = n["metadata"];
    out[md.value("name", "")] = {{"spec", n.value("spec", json::object())},
                                 {"labels", md.value("labels", json::object())},
                                 {"annotations", md.value("annotations", json::object())}};
  }
  return out;
}

void expect_nodes_as_before(const NodeSnapshot& before) {
  auto after = snapshot_nodes();
  EXPECT_EQ(after.size(), before.size()) << "the set of nodes changed";
  for (const auto& [name, was] : before) {
    auto it = after.find(name);
    if (it == after.end()) {
      ADD_FAILURE() << "node " << name << " disappeared";
      continue;
    }
    for (const char* part : {"spec", "labels", "annotations"})
      EXPECT_EQ(it->second[part], was[part])
          << "node " << name << ": " << part << " differs from before the run\n"
          << "before: " << was[part].dump() << "\nafter:  " << it->second[part].dump();
  }
}

void expect_cluster_as_before(const NodeSnapshot& before) {
  expect_nodes_as_before(before);
  expect_cluster_clean();
}

std::vector<json> journal_configmaps() {
  auto client = cluster_client();
  kube::ListOptions o;
  o.label_selector = std::string(chaos::kJournalLabel) + "=true";
  try {
    return chaos::items(client.list(res::kConfigMaps, "faultline", o));
  } catch (const kube::ApiError& e) {
    if (e.kind() == kube::ApiError::Kind::NotFound) return {};
    throw;
  }
}

std::vector<chaos::JournalEntry> journal_entries() {
  std::vector<chaos::JournalEntry> out;
  for (const auto& cm : journal_configmaps()) {
    std::string text = cm.value("data", json::object()).value("entries", "[]");
    for (const auto& e : json::parse(text)) out.push_back(e.get<chaos::JournalEntry>());
  }
  return out;
}

bool lock_lease_exists() {
  auto client = cluster_client();
  try {
    client.get(res::kLeases, "faultline", "faultline-lock");
    return true;
  } catch (const kube::ApiError& e) {
    if (e.kind() == kube::ApiError::Kind::NotFound) return false;
    throw;
  }
}

// ---- reports ----------------------------------------------------------------

json read_report(const std::string& output_dir) {
  std::string path = output_dir + "/report.json";
  if (!fs::exists(path)) {
    ADD_FAILURE() << "no report.json in " << output_dir;
    return json::object();
  }
  try {
    return json::parse(read_file(path));
  } catch (const json::parse_error& e) {
    ADD_FAILURE() << path << " is not JSON: " << e.what();
    return json::object();
  }
}

void expect_reports_written(const std::string& output_dir) {
  struct Expected {
    const char* file;
    const char* contains;
  };
  for (const auto& [file, contains] :
       {Expected{"report.json", "\"run_id\""}, Expected{"junit.xml", "<testsuite"},
        Expected{"report.html", "<html"}, Expected{"summary.md", "#"}}) {
    std::string path = output_dir + "/" + file;
    ASSERT_TRUE(fs::exists(path)) << path << " was not written";
    EXPECT_NE(read_file(path).find(contains), std::string::npos)
        << path << " does not contain " << contains;
  }
}

const json* find_slo(const json& report, const std::string& kind) {
  if (!report.contains("slos")) return nullptr;
  for (const auto& s : report["slos"])
    if (s.value("kind", "") == kind) return &s;
  return nullptr;
}

std::optional<double> last_point(const json& report, const std::string& series) {
  for (const auto& s : report.value("series", json::array()))
    if (s.value("name", "") == series && !s["points"].empty())
      return s["points"].back()[1].get<double>();
  return std::nullopt;
}

std::string line_starting_with(const std::string& output, const std::string& prefix) {
  std::istringstream in(output);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(prefix, 0) == 0) return line;
  return "";
}

bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(200ms);
  }
}

// ---- FaultlineProcess -------------------------------------------------------

FaultlineProcess::FaultlineProcess(const std::vector<std::string>& args,
                                   const std::string& log_file, const std::string& kubeconfig)
    : log_file_(log_file) {
  std::vector<std::string> argv_s = {faultline_binary()};
  argv_s.insert(argv_s.end(), args.begin(), args.end());
  argv_s.insert(argv_s.end(), {"--kubeconfig", kubeconfig, "--no-progress"});
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  int fd = open(log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error("cannot open " + log_file);
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // The child starts with default signal handling, whatever the test
    // process's threads had blocked.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGTERM, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    dup2(fd, 1);
    dup2(fd, 2);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fd);
}

FaultlineProcess::~FaultlineProcess() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, &status_, 0);
  }
}

bool FaultlineProcess::running() {
  if (reaped_) return false;
  pid_t r = waitpid(pid_, &status_, WNOHANG);
  if (r == pid_) reaped_ = true;
  return !reaped_;
}

void FaultlineProcess::signal(int sig) {
  if (!reaped_) kill(pid_, sig);
}

int FaultlineProcess::wait(std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return -1;
    std::this_thread::sleep_for(100ms);
  }
  return WIFEXITED(status_) ? WEXITSTATUS(status_) : 128 + WTERMSIG(status_);
}

std::string FaultlineProcess::output() const { return read_file(log_file_); }

// ---- the demo app -------------------------------------------------------------

void fresh_demo() {
  kubectl("apply -k " + source_dir() + "/manifests/demo");
  std::map<std::string, int> per_zone;
  auto settled = [&] {  // replacements of the last drill Ready, wherever they went
    per_zone = ready_pods_per_zone();
    int total = 0;
    for (const auto& [zone, n] : per_zone) total += n;
    return total == 6;
  };
  eventually(settled, 10s);
  bool balanced = per_zone.size() == 3 && per_zone["zone-a"] == 2 && per_zone["zone-b"] == 2 &&
                  per_zone["zone-c"] == 2;
  if (!balanced) kubectl("delete pods -n shop -l app=checkout --wait=false");
  deploy_demo();
}

// ---- the demo PDB -------------------------------------------------------------

void set_demo_pdb_min_available(int min_available, int expect_disruptions_allowed) {
  kubectl("patch pdb checkout -n shop --type merge -p '{\"spec\":{\"minAvailable\":" +
          std::to_string(min_available) + "}}'");
  auto client = cluster_client();
  bool settled = eventually(
      [&] {
        auto pdb = client.get(res::kPodDisruptionBudgets, "shop", "checkout");
        const auto& st = pdb.value("status", json::object());
        return st.value("observedGeneration", int64_t{-1}) ==
                   pdb["metadata"].value("generation", int64_t{0}) &&
               st.value("disruptionsAllowed", -1) == expect_disruptions_allowed;
      },
      30s);
  ASSERT_TRUE(settled) << "PDB shop/checkout did not settle at minAvailable " << min_available
                       << " with disruptionsAllowed " << expect_disruptions_allowed << ": "
                       << kubectl("get pdb checkout -n shop -o yaml");
}

}  // namespace faultline::testing
