// A JSON value held as its CBOR encoding, for a record's large optional
// parts that are only read when the reports are written. A 10k-pod drill's
// prediction (3,333 displaced pods) held as a DOM for the whole run was
// 2.4 MB of its heap (issue 14); nlohmann's DOM costs several times the
// text, CBOR less than the text.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

namespace faultline::reports {

class PackedJson {
 public:
  PackedJson() : PackedJson(nlohmann::json()) {}
  PackedJson(const nlohmann::json& value);  // NOLINT(google-explicit-constructor): assigned as json

  // The value, decoded anew each call: the caller owns (and frees) the DOM.
  nlohmann::json unpack() const;

  bool operator==(const PackedJson& other) const = default;

 private:
  std::vector<std::uint8_t> cbor_;
};

}  // namespace faultline::reports
