// The what-if prediction of an experiment (runner/plan), shared by
// `faultline plan` and by `run`, which embeds it in the run record.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "runner/experiment/spec.h"
#include "runner/kube/client.h"
#include "runner/plan/predict.h"

namespace faultline::experiment {

// Reads the cluster (get/list only) and predicts. Throws InputError when the
// zone or the target does not exist. `scripts_dir` holds e.script.
plan::Prediction predict_experiment(const Experiment& e, kube::Client& client,
                                    const std::string& scripts_dir);

}  // namespace faultline::experiment
