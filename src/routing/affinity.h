#pragma once
// Prefix affinity: requests that share a prompt prefix go to the same host, so its KV/prefix cache is reused.
// Rendezvous (highest-random-weight) hashing over the candidates: adding or losing a host moves only the keys
// that hashed to it. The chosen host is skipped when it is overloaded relative to the others.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "routing/balancer.h"

namespace sluice::routing {

// FNV-1a of the first `bytes` bytes of the prompt part of a request body (from "messages" or "prompt" on, so
// the model name and options in front do not matter). 0 = no key.
std::uint64_t prefix_key(std::string_view body, std::size_t bytes);

// The candidate `key` hashes to, unless its in-flight count exceeds overload_factor × the candidates' mean
// (+1, so idle fleets never count as overloaded); nullopt then, and the balancer decides.
std::optional<std::size_t> affinity_pick(std::span<const std::size_t> candidates, std::span<const HostLoad> hosts,
                                         std::uint64_t key, double overload_factor);

}  // namespace sluice::routing
