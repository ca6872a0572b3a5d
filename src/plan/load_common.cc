#include "plan/load_common.h"

#include <filesystem>

namespace sluice::plan::detail {

std::optional<YAML::Node> parse_document(Reader& r, const std::string& text) {
  // yaml-cpp reports through exceptions; none may escape.
  try {
    const std::vector<YAML::Node> docs = YAML::LoadAll(text);
    if (docs.empty() || docs.front().IsNull()) {
      r.error(0, "", "file is empty");
      return std::nullopt;
    }
    if (docs.size() > 1) {
      r.error(config::detail::line_of(docs[1]), "", "multiple YAML documents are not supported");
      return std::nullopt;
    }
    if (!docs.front().IsMap()) {
      r.error(config::detail::line_of(docs.front()), "",
              "top level must be a map, got " + config::detail::describe(docs.front()));
      return std::nullopt;
    }
    return docs.front();
  } catch (const YAML::Exception& e) {
    r.error(e.mark.is_null() ? 0 : e.mark.line + 1, "", e.msg);
  }
  return std::nullopt;
}

std::optional<YAML::Node> read_document(Reader& r, const std::string& path) {
  const auto contents = config::detail::read_file(path);
  if (!contents.ok) {
    r.error(0, "", "cannot read file: " + contents.error);
    return std::nullopt;
  }
  return parse_document(r, contents.data);
}

std::optional<double> positive(Reader& r, const Field& f, double max) {
  auto v = config::detail::number(r, f, max);
  if (v && *v == 0) {
    r.error(f.value_line(), f.path, "must be greater than 0");
    return std::nullopt;
  }
  return v;
}

std::optional<double> fraction(Reader& r, const Field& f, double max) {
  return config::detail::number(r, f, max);
}

std::optional<double> seconds(Reader& r, const Field& f, bool allow_zero) {
  auto d = r.duration(f, allow_zero);
  if (!d) {
    return std::nullopt;
  }
  return static_cast<double>(d->count()) / 1000.0;
}

std::string resolve_path(const std::string& relative_to, const std::string& path) {
  std::filesystem::path p(path);
  if (p.is_absolute()) {
    return path;
  }
  return (std::filesystem::path(relative_to).parent_path() / p).lexically_normal().string();
}

void collect(Reader& r, Diagnostics& out) {
  for (auto& e : r.errors()) {
    out.errors.push_back(std::move(e));
  }
  for (auto& w : r.warnings()) {
    out.warnings.push_back(std::move(w));
  }
  r.errors().clear();
  r.warnings().clear();
}

}  // namespace sluice::plan::detail
