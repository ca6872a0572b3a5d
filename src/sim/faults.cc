#include "sim/faults.h"

#include <fmt/format.h>

#include <charconv>

#include "common/strings.h"
#include "common/units.h"
#include "sim/scenario.h"

namespace sluice::sim {

namespace {
bool parse_fault_count(std::string_view v, int64_t& out) {
  if (v.empty()) {
    return false;
  }
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  return ec == std::errc{} && p == v.data() + v.size() && out >= 0 && out <= 1'000'000;
}
}  // namespace

FaultParse parse_fault_header(std::string_view header) {
  FaultParse r;
  auto fail = [&r](std::string msg) {
    r.error = "invalid x-sim-fault header: " + std::move(msg);
    return r;
  };
  std::string_view rest = header;
  while (!rest.empty()) {
    auto comma = rest.find(',');
    std::string_view item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    if (item.empty()) {
      return fail("empty item");
    }
    auto eq = item.find('=');
    std::string_view key = trim(item.substr(0, eq));
    bool has_value = eq != std::string_view::npos;
    std::string_view value = has_value ? trim(item.substr(eq + 1)) : std::string_view{};
    auto need_value = [&]() { return has_value && !value.empty(); };
    auto count = [&](int64_t& out) -> bool {
      if (!need_value() || !parse_fault_count(value, out)) {
        r.error = fmt::format("invalid x-sim-fault header: {} needs a non-negative integer, got '{}'", key,
                              value);
        return false;
      }
      return true;
    };
    auto dur = [&](std::optional<std::chrono::milliseconds>& out) -> bool {
      auto d = need_value() ? parse_duration(value) : std::nullopt;
      if (!d) {
        r.error = fmt::format("invalid x-sim-fault header: {} needs a duration like 250ms or 2s, got '{}'",
                              key, value);
        return false;
      }
      out = *d;
      return true;
    };
    auto flag = [&](bool& out) -> bool {
      if (has_value) {
        r.error = fmt::format("invalid x-sim-fault header: {} takes no value", key);
        return false;
      }
      out = true;
      return true;
    };
    bool ok = true;
    if (key == "status") {
      int64_t s = 0;
      ok = count(s);
      if (ok && (s < 400 || s > 599)) {
        return fail(fmt::format("status must be 400-599, got {}", s));
      }
      r.spec.status = static_cast<unsigned>(s);
    } else if (key == "retry-after") {
      ok = dur(r.spec.retry_after);
    } else if (key == "reset-before-headers") {
      ok = flag(r.spec.reset_before_headers);
    } else if (key == "reset-after") {
      ok = count(r.spec.reset_after);
    } else if (key == "stall-after") {
      ok = count(r.spec.stall_after);
    } else if (key == "truncate-after") {
      ok = count(r.spec.truncate_after);
    } else if (key == "malformed-after") {
      ok = count(r.spec.malformed_after);
    } else if (key == "keepalive") {
      ok = count(r.spec.keepalives);
    } else if (key == "keepalive-interval") {
      ok = dur(r.spec.keepalive_interval);
    } else if (key == "give-up") {
      ok = flag(r.spec.give_up);
    } else if (key == "ttft") {
      ok = dur(r.spec.ttft);
    } else if (key == "itl") {
      ok = dur(r.spec.itl);
    } else if (key == "tokens") {
      ok = count(r.spec.tokens);
    } else {
      return fail(fmt::format("unknown key '{}'", key));
    }
    if (!ok) {
      return r;
    }
  }
  return r;
}

FaultSpec roll_faults(const Phase& phase, Rng& rng) {
  FaultSpec f;
  // Every draw happens whatever the outcome, so request N sees the same numbers in every run.
  double e = rng.uniform();
  for (const auto& [status, rate] : phase.errors) {
    if (e < rate) {
      f.status = status;
      if (status == 429 || status == 503) {
        f.retry_after = phase.retry_after;
      }
      break;
    }
    e -= rate;
  }
  const auto& fr = phase.faults;
  double r1 = rng.uniform();
  double r2 = rng.uniform();
  double r3 = rng.uniform();
  double r4 = rng.uniform();
  double r5 = rng.uniform();
  double r6 = rng.uniform();
  uint64_t at = 1 + rng.next() % 8;  // mid-stream faults strike after 1..8 chunks
  if (f.status != 0) {
    return f;
  }
  f.reset_before_headers = r1 < fr.reset_before_headers;
  if (r2 < fr.reset_mid_stream) {
    f.reset_after = static_cast<int64_t>(at);
  } else if (r3 < fr.stall) {
    f.stall_after = static_cast<int64_t>(at);
  } else if (r4 < fr.truncate) {
    f.truncate_after = static_cast<int64_t>(at);
  } else if (r5 < fr.malformed) {
    f.malformed_after = static_cast<int64_t>(at);
  }
  if (r6 < fr.slow_first_token) {
    f.ttft = fr.slow_first_token_ttft;
  }
  return f;
}

}  // namespace sluice::sim
