#include "reports/packed_json.h"

namespace faultline::reports {

PackedJson::PackedJson(const nlohmann::json& value) : cbor_(nlohmann::json::to_cbor(value)) {
  cbor_.shrink_to_fit();
}

nlohmann::json PackedJson::unpack() const { return nlohmann::json::from_cbor(cbor_); }

}  // namespace faultline::reports
