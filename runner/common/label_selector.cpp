#include "runner/common/label_selector.h"

#include <cctype>
#include <vector>

namespace faultline {
namespace {

struct Token {
  enum Kind {
    Identifier,
    Comma,
    Open,
    Close,
    Equals,
    DoubleEquals,
    NotEquals,
    Bang,
    Greater,
    Less,
    End
  } kind;
  std::string text;
};

bool special(char c) {
  return c == ',' || c == '(' || c == ')' || c == '=' || c == '!' || c == '<' || c == '>' ||
         std::isspace(static_cast<unsigned char>(c));
}

std::vector<Token> tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == ',') {
      out.push_back({Token::Comma, ","}), ++i;
    } else if (c == '(') {
      out.push_back({Token::Open, "("}), ++i;
    } else if (c == ')') {
      out.push_back({Token::Close, ")"}), ++i;
    } else if (c == '=' && i + 1 < s.size() && s[i + 1] == '=') {
      out.push_back({Token::DoubleEquals, "=="}), i += 2;
    } else if (c == '=') {
      out.push_back({Token::Equals, "="}), ++i;
    } else if (c == '!' && i + 1 < s.size() && s[i + 1] == '=') {
      out.push_back({Token::NotEquals, "!="}), i += 2;
    } else if (c == '!') {
      out.push_back({Token::Bang, "!"}), ++i;
    } else if (c == '>') {
      out.push_back({Token::Greater, ">"}), ++i;
    } else if (c == '<') {
      out.push_back({Token::Less, "<"}), ++i;
    } else {
      size_t j = i;
      while (j < s.size() && !special(s[j])) ++j;
      out.push_back({Token::Identifier, std::string(s.substr(i, j - i))});
      i = j;
    }
  }
  out.push_back({Token::End, ""});
  return out;
}

bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

// A label name or value: [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, at most 63.
std::optional<std::string> name_error(const std::string& s, const char* what) {
  if (s.size() > 63) return std::string(what) + " \"" + s + "\" is longer than 63 characters";
  if (s.empty() || !alnum(s.front()) || !alnum(s.back()))
    return std::string(what) + " \"" + s + "\" must start and end with a letter or digit";
  for (char c : s)
    if (!alnum(c) && c != '-' && c != '_' && c != '.')
      return std::string(what) + " \"" + s + "\" has \"" + std::string(1, c) +
             "\" (allowed: letters, digits, '-', '_', '.')";
  return std::nullopt;
}

// prefix/name, the prefix a DNS subdomain of at most 253 characters.
std::optional<std::string> key_error(const std::string& key) {
  auto slash = key.find('/');
  if (slash == std::string::npos) return name_error(key, "label key");
  std::string prefix = key.substr(0, slash);
  if (prefix.empty() || prefix.size() > 253)
    return "label key \"" + key + "\": prefix must be 1-253 characters";
  for (char c : prefix)
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.'))
      return "label key \"" + key +
             "\": prefix must be a DNS subdomain (lower-case letters, digits, '-', '.')";
  return name_error(key.substr(slash + 1), "label key name");
}

std::optional<std::string> value_error(const std::string& v) {
  if (v.empty()) return std::nullopt;
  return name_error(v, "label value");
}

std::string describe(const Token& t) {
  return t.kind == Token::End ? "end of selector" : "\"" + t.text + "\"";
}

class Parser {
 public:
  explicit Parser(std::string_view s) : tokens_(tokenize(s)) {}

  std::optional<std::string> parse() {
    if (peek().kind == Token::End) return std::nullopt;
    while (true) {
      if (auto err = term()) return err;
      const Token& t = next();
      if (t.kind == Token::End) return std::nullopt;
      if (t.kind != Token::Comma)
        return "expected \",\" or the end after a requirement, got " + describe(t);
    }
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  const Token& next() { return tokens_[pos_ < tokens_.size() - 1 ? pos_++ : pos_]; }

  std::optional<std::string> term() {
    if (peek().kind == Token::Bang) {
      next();
      const Token& key = next();
      if (key.kind != Token::Identifier)
        return "expected a label key after \"!\", got " + describe(key);
      return key_error(key.text);
    }
    const Token& key = next();
    if (key.kind != Token::Identifier) return "expected a label key, got " + describe(key);
    if (auto err = key_error(key.text)) return err;
    const Token& op = peek();
    switch (op.kind) {
      case Token::End:
      case Token::Comma:
        return std::nullopt;  // exists
      case Token::Equals:
      case Token::DoubleEquals:
      case Token::NotEquals: {
        next();
        if (peek().kind != Token::Identifier) {
          if (peek().kind == Token::End || peek().kind == Token::Comma)
            return std::nullopt;  // key= (empty value)
          return "expected a value after \"" + key.text + op.text + "\", got " + describe(peek());
        }
        return value_error(next().text);
      }
      case Token::Greater:
      case Token::Less: {
        next();
        const Token& v = next();
        bool integer = v.kind == Token::Identifier && !v.text.empty();
        for (char c : v.text) integer = integer && std::isdigit(static_cast<unsigned char>(c));
        if (!integer)
          return "expected a whole number after \"" + key.text + op.text + "\", got " + describe(v);
        return std::nullopt;
      }
      case Token::Identifier:
        if (op.text == "in" || op.text == "notin") return set(key.text, next().text);
        return "unexpected " + describe(op) + " after the label key \"" + key.text +
               "\" (expected =, ==, !=, in, notin, or a \",\")";
      default:
        return "unexpected " + describe(op) + " after the label key \"" + key.text + "\"";
    }
  }

  std::optional<std::string> set(const std::string& key, const std::string& op) {
    if (next().kind != Token::Open) return "expected \"(\" after \"" + key + " " + op + "\"";
    int values = 0;
    while (true) {
      const Token& t = next();
      if (t.kind == Token::Close) break;
      if (t.kind == Token::Identifier) {
        if (auto err = value_error(t.text)) return err;
        ++values;
        const Token& after = peek();
        if (after.kind == Token::Comma) {
          next();
          continue;
        }
        if (after.kind == Token::Close) continue;
        return "expected \",\" or \")\" in the values of \"" + key + " " + op + "\", got " +
               describe(after);
      }
      return "expected a value or \")\" in \"" + key + " " + op + " (...)\", got " + describe(t);
    }
    if (values == 0) return "\"" + key + " " + op + " ()\": the set of values must not be empty";
    return std::nullopt;
  }

  std::vector<Token> tokens_;
  size_t pos_ = 0;
};

}  // namespace

std::optional<std::string> label_selector_error(std::string_view selector) {
  if (auto err = Parser(selector).parse())
    return "label selector \"" + std::string(selector) + "\": " + *err;
  return std::nullopt;
}

}  // namespace faultline
