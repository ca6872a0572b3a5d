#pragma once
// Private to the plan loaders: the config loader's Reader (file:line: key.path diagnostics, unknown keys
// rejected) plus the few typed reads plan files need on top of it.
#include <yaml-cpp/yaml.h>

#include <optional>
#include <string>

#include "config/loader_internal.h"
#include "plan/load.h"

namespace sluice::plan::detail {

using config::detail::Field;
using config::detail::FieldMap;
using config::detail::Reader;

// The one YAML document of `text`; nullopt (with an error recorded) when it is empty or malformed.
std::optional<YAML::Node> parse_document(Reader& r, const std::string& text);

// Reads the file and parses it; a read failure is an error naming the file.
std::optional<YAML::Node> read_document(Reader& r, const std::string& path);

// A number in (0, max].
std::optional<double> positive(Reader& r, const Field& f, double max);
// A number in [0, max].
std::optional<double> fraction(Reader& r, const Field& f, double max);
// A duration ("2s", "500ms"), in seconds; > 0 unless allow_zero.
std::optional<double> seconds(Reader& r, const Field& f, bool allow_zero);

// `path` relative to the folder of `relative_to` (a file), unless absolute.
std::string resolve_path(const std::string& relative_to, const std::string& path);

// Moves the reader's diagnostics into `out`.
void collect(Reader& r, Diagnostics& out);

}  // namespace sluice::plan::detail
