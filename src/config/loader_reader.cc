#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <map>

#include "common/units.h"
#include "config/loader_internal.h"

namespace sluice::config::detail {
namespace {

// yaml-cpp tags quoted scalars "!" and plain ones "?"; a quoted "8" is a string, not a number.
bool is_quoted(const YAML::Node& node) { return node.Tag() == "!"; }

std::string quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string join_list(std::span<const std::string_view> items) {
  std::string out;
  for (std::string_view item : items) {
    if (!out.empty()) {
      out += ", ";
    }
    out += item;
  }
  return out;
}

}  // namespace

std::string join_path(std::string_view parent, std::string_view key) {
  if (parent.empty()) {
    return std::string(key);
  }
  return std::string(parent) + "." + std::string(key);
}

std::string index_path(std::string_view parent, std::size_t index) {
  return std::string(parent) + "[" + std::to_string(index) + "]";
}

int line_of(const YAML::Node& node) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() || mark.line < 0 ? 0 : mark.line + 1;
}

std::string describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return quote(node.Scalar());
    default:
      return "null";
  }
}

bool is_simple_name(std::string_view name) {
  if (name.empty()) {
    return false;
  }
  for (char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
                    c == '.' || c == '-';
    if (!ok) {
      return false;
    }
  }
  return true;
}

int Field::value_line() const {
  if (value.IsNull()) {
    return key_line;
  }
  const int line = line_of(value);
  return line == 0 ? key_line : line;
}

const Field* FieldMap::find(std::string_view key) const {
  for (const Field& f : fields) {
    if (f.key == key) {
      return &f;
    }
  }
  return nullptr;
}

FileContents read_file(const std::string& path) {
  FileContents out;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    out.error = std::strerror(errno);
    return out;
  }
  char buf[8192];
  std::size_t n = 0;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    out.data.append(buf, n);
  }
  // fopen succeeds on a directory; the read then fails with EISDIR.
  const bool failed = std::ferror(f) != 0;
  const int err = errno;
  std::fclose(f);
  if (failed) {
    out.error = std::strerror(err);
    out.data.clear();
    return out;
  }
  out.ok = true;
  return out;
}

void Reader::error(int line, std::string path, std::string message) {
  errors_.push_back({file_, line, std::move(path), std::move(message)});
}

void Reader::warning(int line, std::string path, std::string message) {
  warnings_.push_back({file_, line, std::move(path), std::move(message)});
}

std::optional<FieldMap> Reader::map(const YAML::Node& node, int line, const std::string& path,
                                    std::span<const std::string_view> allowed) {
  if (!node.IsMap()) {
    error(line, path, "expected a map, got " + describe(node));
    return std::nullopt;
  }
  FieldMap out{path, line, {}};
  std::map<std::string, int> seen;  // key -> line, to report duplicates
  // Copy the nodes: yaml-cpp's iterator returns a proxy whose members die with the expression.
  for (const auto& pair : node) {
    const YAML::Node key = pair.first;
    const YAML::Node value = pair.second;
    const int key_line = line_of(key) == 0 ? line : line_of(key);
    if (!key.IsScalar()) {
      error(key_line, path, "map keys must be strings, got " + describe(key));
      continue;
    }
    const std::string& name = key.Scalar();
    if (const auto [prev, inserted] = seen.emplace(name, key_line); !inserted) {
      error(key_line, join_path(path, name),
            "duplicate key " + quote(name) + " (first defined at line " + std::to_string(prev->second) + ")");
      continue;
    }
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
      error(key_line, join_path(path, name),
            "unknown key " + quote(name) + " (expected one of: " + join_list(allowed) + ")");
      continue;
    }
    out.fields.push_back({name, join_path(path, name), key_line, value});
  }
  return out;
}

std::optional<FieldMap> Reader::map(const Field& field, std::span<const std::string_view> allowed) {
  auto out = map(field.value, field.value_line(), field.path, allowed);
  if (out) {
    out->line = field.key_line;  // "missing key" reads best pointing at the parent key
  }
  return out;
}

const Field* Reader::require(const FieldMap& map, std::string_view key) {
  const Field* f = map.find(key);
  if (f == nullptr) {
    error(map.line, join_path(map.path, key), "missing required key");
  }
  return f;
}

std::optional<std::string> Reader::string(const Field& field) {
  if (!field.value.IsScalar()) {
    error(field.value_line(), field.path, "expected a string, got " + describe(field.value));
    return std::nullopt;
  }
  if (field.value.Scalar().empty()) {
    error(field.value_line(), field.path, "must not be empty");
    return std::nullopt;
  }
  return field.value.Scalar();
}

std::optional<int64_t> Reader::integer(const Field& field, int64_t min, int64_t max) {
  const YAML::Node& v = field.value;
  int64_t n = 0;
  bool parsed = false;
  if (v.IsScalar() && !is_quoted(v)) {
    const std::string& s = v.Scalar();
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    parsed = ec == std::errc() && end == s.data() + s.size();
  }
  if (!parsed) {
    const std::string got = v.IsScalar() && is_quoted(v) ? "the string " + describe(v) : describe(v);
    error(field.value_line(), field.path, "expected an integer, got " + got);
    return std::nullopt;
  }
  if (n < min || n > max) {
    error(field.value_line(), field.path,
          "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " +
              std::to_string(n));
    return std::nullopt;
  }
  return n;
}

std::optional<bool> Reader::boolean(const Field& field) {
  const YAML::Node& v = field.value;
  if (v.IsScalar() && !is_quoted(v)) {
    const std::string& s = v.Scalar();
    // Only YAML 1.2 booleans; "yes"/"on" are too easy to write by accident.
    if (s == "true" || s == "True" || s == "TRUE") {
      return true;
    }
    if (s == "false" || s == "False" || s == "FALSE") {
      return false;
    }
  }
  const std::string got = v.IsScalar() && is_quoted(v) ? "the string " + describe(v) : describe(v);
  error(field.value_line(), field.path, "expected true or false, got " + got);
  return std::nullopt;
}

std::optional<Duration> Reader::duration(const Field& field, bool allow_zero) {
  const YAML::Node& v = field.value;
  if (!v.IsScalar()) {
    error(field.value_line(), field.path, "expected a duration, got " + describe(v));
    return std::nullopt;
  }
  const auto d = parse_duration(v.Scalar());
  if (!d) {
    error(field.value_line(), field.path,
          "invalid duration " + describe(v) + ": expected a number followed by ms, s, m or h");
    return std::nullopt;
  }
  if (!allow_zero && d->count() == 0) {
    error(field.value_line(), field.path, "must be greater than 0");
    return std::nullopt;
  }
  return *d;
}

std::optional<std::size_t> Reader::size(const Field& field) {
  const YAML::Node& v = field.value;
  if (!v.IsScalar()) {
    error(field.value_line(), field.path, "expected a size, got " + describe(v));
    return std::nullopt;
  }
  const auto n = parse_size(v.Scalar());
  if (!n) {
    error(field.value_line(), field.path,
          "invalid size " + describe(v) +
              ": expected an integer optionally followed by B, KB, KiB, MB, MiB, GB or GiB");
    return std::nullopt;
  }
  if (*n == 0) {
    error(field.value_line(), field.path, "must be greater than 0");
    return std::nullopt;
  }
  return *n;
}

std::optional<std::string> Reader::env_name(const Field& field) {
  auto name = string(field);
  if (!name) {
    return std::nullopt;
  }
  const auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  const bool starts_ok = !is_digit(name->front());
  const bool chars_ok = std::all_of(name->begin(), name->end(), [&](char c) {
    return c == '_' || is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
  });
  if (!starts_ok || !chars_ok) {
    error(field.value_line(), field.path,
          "invalid environment variable name " + quote(*name) + " (expected letters, digits and _)");
    return std::nullopt;
  }
  return name;
}

std::optional<std::string> Reader::env(const std::string& name) const {
  if (!env_) {
    return std::nullopt;
  }
  auto value = env_(name);
  if (!value || value->empty()) {
    return std::nullopt;
  }
  return value;
}

}  // namespace sluice::config::detail
