// GET /admin/usage query strings: time bounds and group_by fields.
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <charconv>
#include <ctime>

#include "ledger/ledger.h"
#include "ledger/schema.h"

namespace sluice::ledger {

namespace {
std::optional<std::int64_t> parse_time_ms(std::string_view s) {
  std::int64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (ec == std::errc() && end == s.data() + s.size()) {
    if (n > INT64_MAX / 1000 || n < INT64_MIN / 1000) {
      return std::nullopt;
    }
    return n * 1000;
  }
  std::tm tm{};
  std::string str(s);
  const char* rest = nullptr;
  if (str.size() == 10) {
    rest = strptime(str.c_str(), "%Y-%m-%d", &tm);
  } else {
    rest = strptime(str.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm);
  }
  if (!rest || *rest != '\0') {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(timegm(&tm)) * 1000;
}
}  // namespace

std::optional<UsageQuery> parse_usage_query(std::string_view target, std::string& error) {
  UsageQuery q;
  auto url = boost::urls::parse_origin_form(target);
  if (!url) {
    error = "malformed query string";
    return std::nullopt;
  }
  for (auto p : url->params()) {
    std::string value = p.value;
    if (p.key == "from" || p.key == "to") {
      auto t = parse_time_ms(value);
      if (!t) {
        error = p.key + ": expected unix seconds, YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ";
        return std::nullopt;
      }
      (p.key == "from" ? q.from_ms : q.to_ms) = *t;
    } else if (p.key == "group_by") {
      std::string_view rest = value;
      while (!rest.empty()) {
        auto comma = rest.find(',');
        auto name = rest.substr(0, comma);
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        if (!schema::group_expr(name)) {
          error = "group_by: unknown field \"" + std::string(name) +
                  "\" (key, model, upstream, source, day, hour)";
          return std::nullopt;
        }
        q.group_by.emplace_back(name);
      }
    } else {
      error = "unknown parameter \"" + p.key + "\" (from, to, group_by)";
      return std::nullopt;
    }
  }
  return q;
}

}  // namespace sluice::ledger
