#include "runner/experiment/params_schema.h"

#include <charconv>
#include <cmath>

#include "runner/common/duration.h"
#include "runner/common/error.h"

namespace faultline::experiment {

using json = nlohmann::json;
using Type = ParamRule::Type;

namespace {

const char* type_name(Type t) {
  switch (t) {
    case Type::String:
      return "a string";
    case Type::Integer:
      return "a whole number";
    case Type::Number:
      return "a number";
    case Type::Duration:
      return "a duration (e.g. 90s, 2m)";
    case Type::Boolean:
      return "true or false";
    case Type::List:
      return "a list";
  }
  return "?";
}

std::optional<double> as_number(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (!v.is_string()) return std::nullopt;
  const std::string s = v.get<std::string>();
  double d = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(d)) return std::nullopt;
  return d;
}

// The value converted to its declared type, or nullopt when it is not one.
std::optional<json> convert(const ParamRule& rule, const json& v, double* magnitude) {
  switch (rule.type) {
    case Type::String:
      if (!v.is_string()) return std::nullopt;
      return v;
    case Type::Boolean:
      if (v.is_boolean()) return v;
      if (v == "true" || v == "false") return json(v == "true");
      return std::nullopt;
    case Type::List:
      if (!v.is_array()) return std::nullopt;
      return v;
    case Type::Integer: {
      auto d = as_number(v);
      if (!d || std::floor(*d) != *d || std::abs(*d) > 9e15) return std::nullopt;
      *magnitude = *d;
      return json(static_cast<long long>(*d));
    }
    case Type::Number: {
      auto d = as_number(v);
      if (!d) return std::nullopt;
      *magnitude = *d;
      return json(*d);
    }
    case Type::Duration: {
      std::optional<Seconds> d;
      if (v.is_number() && v.get<double>() >= 0 && v.get<double>() <= kMaxDuration.count())
        d = Seconds(v.get<double>());
      if (v.is_string()) d = parse_duration(v.get<std::string>());
      if (!d) return std::nullopt;
      *magnitude = d->count();
      return v;  // scripts take "90s" or seconds as they are
    }
  }
  return std::nullopt;
}

// The value as the user wrote it, for a message: never throws on invalid
// UTF-8 (a YAML string may hold any bytes; found by tests/fuzz).
std::string shown(const json& v) { return v.dump(-1, ' ', false, json::error_handler_t::replace); }

}  // namespace

ParamsSchema parse_params_schema(const YamlReader& node) {
  if (!node.is_map())
    node.fail(
        "spec.params_schema: expected a mapping of param name to { type, required?, min?, max? }");
  ParamsSchema schema;
  node.for_each([&](const std::string& name, const YamlReader& r) {
    const std::string what = "spec.params_schema." + name;
    r.expect_map({"type", "required", "min", "max"}, what);
    ParamRule rule;
    rule.where = observe::SpecLocation::of(r);
    const std::string type = r["type"].as_string(what + ".type");
    static const std::map<std::string, Type> types = {
        {"string", Type::String},     {"integer", Type::Integer}, {"number", Type::Number},
        {"duration", Type::Duration}, {"boolean", Type::Boolean}, {"list", Type::List}};
    auto it = types.find(type);
    if (it == types.end())
      r["type"].fail(what +
                     ".type: expected string, integer, number, duration, boolean or list, got \"" +
                     type + "\"");
    rule.type = it->second;
    if (r.has("required")) rule.required = r["required"].as_bool(what + ".required");
    for (const char* bound : {"min", "max"}) {
      if (!r.has(bound)) continue;
      auto b = r[bound];
      if (rule.type != Type::Integer && rule.type != Type::Number && rule.type != Type::Duration)
        b.fail(what + "." + bound + ": only integer, number and duration params have a range");
      double v = rule.type == Type::Duration ? b.as_duration(what + "." + bound).count()
                                             : b.as_number(what + "." + bound);
      if (!std::isfinite(v)) b.fail(what + "." + bound + ": expected a finite bound");
      (std::string(bound) == "min" ? rule.min : rule.max) = v;
      (std::string(bound) == "min" ? rule.min_text : rule.max_text) = b.as_string(what);
    }
    schema[name] = rule;
  });
  return schema;
}

void check_params(const ParamsSchema& schema, json& params,
                  const std::map<std::string, observe::SpecLocation>& located) {
  for (const auto& [name, rule] : schema) {
    auto fail = [&, &name = name, &rule = rule](const std::string& message) {
      auto at = located.find(name);
      if (at != located.end() && at->second.line > 0)
        at->second.fail("params." + name + ": " + message);
      if (params.contains(name)) throw InputError("--param " + name + ": " + message);
      rule.where.fail("params." + name + ": " + message);
    };
    if (!params.contains(name) || params[name].is_null()) {
      if (rule.required) fail("required by spec.params_schema, but not given");
      continue;
    }
    double magnitude = 0;
    auto value = convert(rule, params[name], &magnitude);
    if (!value)
      fail(std::string("expected ") + type_name(rule.type) + ", got " + shown(params[name]));
    if (rule.min && magnitude < *rule.min)
      fail("must be at least " + rule.min_text + ", got " + shown(params[name]));
    if (rule.max && magnitude > *rule.max)
      fail("must be at most " + rule.max_text + ", got " + shown(params[name]));
    params[name] = *value;
  }
}

}  // namespace faultline::experiment
