// The `admin` section: where the admin API and dashboard listen and which key guards them.
#include <array>

#include "common/sha256.h"
#include "config/loader_internal.h"

namespace sluice::config::detail {
namespace {
constexpr std::array<std::string_view, 2> kAdminKeys{"listen", "key_env"};
constexpr std::array<std::string_view, 1> kMetricsKeys{"listen"};

std::optional<Endpoint> listen_address(Reader& r, const Field& f) {
  auto s = r.string(f);
  if (!s) {
    return std::nullopt;
  }
  auto ep = parse_endpoint(*s);
  if (!ep) {
    r.error(f.value_line(), f.path,
            "invalid address \"" + *s + "\": expected host:port or [ipv6]:port with port 0-65535");
  }
  return ep;
}
}  // namespace

void load_admin(Reader& r, const Field& field, Config& cfg) {
  const auto map = r.map(field, kAdminKeys);
  if (!map) {
    return;
  }
  if (const Field* f = map->find("listen")) {
    cfg.admin.listen = listen_address(r, *f);
  }
  if (const Field* f = map->find("key_env")) {
    if (auto var = r.env_name(*f)) {
      cfg.admin.key_env = *var;
      if (auto key = r.env(*var)) {
        if (key->size() < 16) {
          r.error(f->value_line(), f->path, "admin key in " + *var + " is too short (at least 16 characters)");
        } else {
          cfg.admin.key_sha256 = sha256_hex(*key);
        }
      } else {
        r.error(f->value_line(), f->path, "environment variable " + *var + " is not set or empty");
      }
    }
  }
  // A non-loopback listener without a key would hand upstream control to the network.
  if (cfg.admin.listen && cfg.admin.key_env.empty()) {
    const std::string& h = cfg.admin.listen->host;
    if (h != "127.0.0.1" && h != "::1" && h != "localhost") {
      r.warning(map->line, field.path + ".listen",
                "admin listener on a non-loopback address without key_env: anyone who can reach it can "
                "drain, eject and reload");
    }
  }
}

void load_metrics_section(Reader& r, const Field& field, Config& cfg) {
  const auto map = r.map(field, kMetricsKeys);
  if (!map) {
    return;
  }
  if (const Field* f = map->find("listen")) {
    cfg.metrics.listen = listen_address(r, *f);
  }
}

}  // namespace sluice::config::detail
