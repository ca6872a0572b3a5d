#include "routing/affinity.h"

#include <algorithm>

namespace sluice::routing {

namespace {
std::uint64_t mix(std::uint64_t x) {  // splitmix64 finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}
}  // namespace

std::uint64_t prefix_key(std::string_view body, std::size_t bytes) {
  if (bytes == 0) {
    return 0;
  }
  auto at = body.find("\"messages\"");
  if (at == std::string_view::npos) {
    at = body.find("\"prompt\"");
  }
  if (at == std::string_view::npos) {
    return 0;
  }
  std::string_view p = body.substr(at, bytes);
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : p) {
    h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  }
  return h == 0 ? 1 : h;
}

std::optional<std::size_t> affinity_pick(std::span<const std::size_t> candidates, std::span<const HostLoad> hosts,
                                         std::uint64_t key, double overload_factor) {
  if (candidates.empty() || key == 0) {
    return std::nullopt;
  }
  std::size_t best = candidates[0];
  std::uint64_t best_score = 0;
  double total = 0;
  for (std::size_t i : candidates) {
    // Host identity is its deployment index: stable for a given config.
    std::uint64_t score = mix(key ^ mix(i + 1));
    if (score >= best_score) {
      best_score = score;
      best = i;
    }
    total += double(hosts[i].in_flight);
  }
  const double mean = total / double(candidates.size());
  if (double(hosts[best].in_flight) > overload_factor * mean + 1) {
    return std::nullopt;
  }
  return best;
}

}  // namespace sluice::routing
