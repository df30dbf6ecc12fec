// Kubernetes label selector syntax, checked the way the API server parses it
// (k8s.io/apimachinery/pkg/labels/selector.go), so a typo in a selector is
// refused by `validate` instead of by the API server mid-run (HTTP 400), or
// worse, read leniently into something that matches the wrong pods.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace faultline {

// nullopt when `selector` is a valid label selector ("" selects everything);
// else what is wrong, e.g. `"app=we b": unexpected "b" after the value "we"`.
std::optional<std::string> label_selector_error(std::string_view selector);

}  // namespace faultline
