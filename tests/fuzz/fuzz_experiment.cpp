// libFuzzer: the experiment parser (YAML reader, spec, probes, SLOs, params
// schema). Any input must parse or throw InputError — nothing else: no
// crash, no other exception, no unbounded recursion or allocation.
#include <cstddef>
#include <cstdint>
#include <string>

#include "runner/common/error.h"
#include "runner/experiment/spec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  try {
    auto e = faultline::experiment::parse_experiment_text("fuzz.yaml", text);
    faultline::experiment::apply_param_override(e, "zone=zone-b");
  } catch (const faultline::InputError&) {
  }
  return 0;
}
