#include "reports/fault_status.h"

namespace faultline::reports {

std::string_view to_string(FaultStatus status) {
  for (const auto& s : kFaultStatuses)
    if (s.status == status) return s.name;
  return "applied";
}

std::optional<FaultStatus> parse_fault_status(std::string_view name) {
  for (const auto& s : kFaultStatuses)
    if (s.name == name) return s.status;
  return std::nullopt;
}

std::vector<std::string> fault_status_names() {
  std::vector<std::string> out;
  for (const auto& s : kFaultStatuses) out.emplace_back(s.name);
  return out;
}

bool fault_made(std::string_view name) {
  for (const auto& s : kFaultStatuses)
    if (s.name == name) return s.made;
  return true;
}

}  // namespace faultline::reports
