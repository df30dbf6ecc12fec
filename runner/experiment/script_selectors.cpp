#include "runner/experiment/script_selectors.h"

#include <algorithm>
#include <cctype>

#include "runner/common/error.h"
#include "runner/common/label_selector.h"

namespace faultline::experiment {
namespace {

size_t skip_space(const std::string& s, size_t i) {
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

bool word_boundary_before(const std::string& s, size_t i) {
  return i == 0 || !(std::isalnum(static_cast<unsigned char>(s[i - 1])) || s[i - 1] == '_');
}

}  // namespace

void check_literal_selectors(const std::string& chunk, const std::string& text) {
  const std::string key = "selector";
  for (size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + key.size())) {
    if (!word_boundary_before(text, at)) continue;
    size_t i = skip_space(text, at + key.size());
    if (i >= text.size() || text[i] != '=' || (i + 1 < text.size() && text[i + 1] == '=')) continue;
    i = skip_space(text, i + 1);
    if (i >= text.size() || (text[i] != '"' && text[i] != '\'')) continue;
    char quote = text[i];
    size_t end = i + 1;
    while (end < text.size() && text[end] != quote && text[end] != '\n' && text[end] != '\\') ++end;
    if (end >= text.size() || text[end] != quote)
      continue;  // escapes or an unterminated string: left to Lua
    size_t after = skip_space(text, end + 1);
    if (text.compare(after, 2, "..") == 0) continue;  // built at run time
    std::string selector = text.substr(i + 1, end - i - 1);
    if (auto err = label_selector_error(selector)) {
      int line = 1 + static_cast<int>(
                         std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
      throw InputError(chunk, line, "selector: " + *err);
    }
  }
}

}  // namespace faultline::experiment
