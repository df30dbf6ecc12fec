#include "reports/run_record_io.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "runner/common/error.h"

namespace faultline::reports {
namespace {

// nlohmann reports a byte offset; people want line:column.
void line_column(const std::string& text, size_t byte, int* line, int* column) {
  *line = 1;
  *column = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++*line;
      *column = 1;
    } else {
      ++*column;
    }
  }
}

// "[json.exception.parse_error.101] parse error at line 3, column 5: syntax
// error while parsing value - invalid literal; last read: 'tru'" -> the part
// after the location, which is what the reader needs.
std::string parse_reason(const std::string& what) {
  auto colon = what.find(": ");
  return colon == std::string::npos ? what : what.substr(colon + 2);
}

}  // namespace

RunRecord read_record(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot read: " + std::strerror(errno));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) throw InputError(path + ": cannot read: " + std::strerror(errno));
  std::string text = buffer.str();
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    int line = 0, column = 0;
    // byte is 1-based and points just past the offending character.
    line_column(text, e.byte == 0 ? 0 : e.byte - 1, &line, &column);
    throw InputError(path, line, column, "invalid JSON: " + parse_reason(e.what()));
  }
  return from_json(j, path);
}

}  // namespace faultline::reports
