#include "cache/key.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>
#include <vector>

#include "common/json.h"
#include "common/sha256.h"
#include "common/strings.h"

namespace sluice::cache {

namespace {
namespace json = boost::json;

// Canonical JSON: object keys sorted, integral doubles written as integers, no whitespace.
void canonical(const json::value& v, std::string& out) {
  switch (v.kind()) {
    case json::kind::object: {
      const auto& o = v.get_object();
      std::vector<const json::key_value_pair*> kv;
      kv.reserve(o.size());
      for (const auto& p : o) {
        kv.push_back(&p);
      }
      std::sort(kv.begin(), kv.end(), [](auto* a, auto* b) { return a->key() < b->key(); });
      out += '{';
      for (std::size_t i = 0; i < kv.size(); ++i) {
        if (i) {
          out += ',';
        }
        append_json_string(out, kv[i]->key());
        out += ':';
        canonical(kv[i]->value(), out);
      }
      out += '}';
      return;
    }
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) {
          out += ',';
        }
        first = false;
        canonical(e, out);
      }
      out += ']';
      return;
    }
    case json::kind::double_: {
      double d = v.get_double();
      if (std::isfinite(d) && d == std::trunc(d) && std::fabs(d) < 1e15) {
        out += std::to_string(static_cast<long long>(d));
      } else {
        out += json::serialize(v);
      }
      return;
    }
    default:
      out += json::serialize(v);
  }
}
}  // namespace

std::optional<RequestKey> request_key(std::string_view path, std::string_view routed_model,
                                      std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) {
    return std::nullopt;
  }
  auto& o = v.get_object();
  RequestKey k;
  o.erase("stream");
  o.erase("stream_options");
  o.erase("user");
  o["model"] = routed_model;
  std::string norm;
  norm.reserve(body.size() + 64);
  norm += path;
  norm += '\n';
  canonical(v, norm);
  k.digest = sha256_hex(norm);
  return k;
}

CacheControl parse_cache_control(std::string_view h) {
  CacheControl cc;
  for_each_list_item(h, [&](std::string_view d) {
    d = d.substr(0, d.find_first_of(" \t="));  // the directive's name, without an argument
    cc.no_cache = cc.no_cache || equals_lower(d, "no-cache");
    cc.no_store = cc.no_store || equals_lower(d, "no-store");
  });
  return cc;
}

}  // namespace sluice::cache
