#include <optional>
#include <string_view>

#include "reports/renderers.h"

namespace faultline::reports {

namespace {

// Strings in a record come from pods and events; an invalid UTF-8 byte is
// replaced rather than failing the whole report.
std::string dump(const json& value) {
  return value.dump(2, ' ', false, json::error_handler_t::replace);
}

// `value` as dump() writes it one level down: every line after the first
// indented by two more spaces (a JSON string holds no raw newline, so each
// '\n' is one of dump's own).
void append_nested(std::string& out, std::string_view text) {
  for (char c : text) {
    out += c;
    if (c == '\n') out += "  ";
  }
}

}  // namespace

// The same text as to_json(r).dump(2) (keys in order, as nlohmann's object
// writes them), built a top-level key at a time: the head, then each bulk
// part's JSON made, written and freed before the next is made, and the
// prediction unpacked only while it is written.
std::string render_json(const RunRecord& r) {
  json head = head_to_json(r);
  for (BulkPart part : kBulkParts) head[bulk_key(part)] = nullptr;  // placeholders, for the order
  if (r.prediction) head["prediction"] = nullptr;
  std::string out = "{";
  bool first = true;
  for (const auto& [key, value] : head.items()) {
    out += first ? "\n  " : ",\n  ";
    first = false;
    out += dump(json(key));
    out += ": ";
    std::optional<BulkPart> bulk;
    for (BulkPart part : kBulkParts)
      if (key == bulk_key(part)) bulk = part;
    if (bulk)
      append_nested(out, dump(bulk_to_json(r, *bulk)));
    else if (key == "prediction")
      append_nested(out, dump(r.prediction->unpack()));
    else
      append_nested(out, dump(value));
  }
  out += first ? "}\n" : "\n}\n";
  return out;
}

}  // namespace faultline::reports
