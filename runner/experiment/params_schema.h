// spec.params_schema: the types and ranges of a script's params, checked by
// `validate` (and before every run) so `within: -5s` is exit 2 with its
// file:line:col, not a script error after the zone was failed.
//
//   params_schema:
//     zone:   { type: string, required: true }
//     within: { type: duration, min: 1s, max: 10m }
//     count:  { type: integer, min: 1, max: 100 }
//
// Types: string, integer, number, duration, boolean, list. --param overrides
// arrive as text and are converted to the declared type (count=3 → 3).
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>

#include "runner/common/yaml_reader.h"
#include "runner/observe/probe_spec.h"

namespace faultline::experiment {

struct ParamRule {
  enum class Type { String, Integer, Number, Duration, Boolean, List } type = Type::String;
  bool required = false;
  std::optional<double> min, max;  // numbers; durations in seconds
  std::string min_text, max_text;  // as written, for messages
  observe::SpecLocation where;     // the rule, for "required" errors
};

using ParamsSchema = std::map<std::string, ParamRule>;

ParamsSchema parse_params_schema(const YamlReader& node);

// Checks (and converts, for --param text) params against the schema. Throws
// InputError located at the param's value when `located` has it, else at
// the rule, else naming the --param.
void check_params(const ParamsSchema& schema, nlohmann::json& params,
                  const std::map<std::string, observe::SpecLocation>& located);

}  // namespace faultline::experiment
