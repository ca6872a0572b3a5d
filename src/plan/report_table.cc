// The terminal table of `sluice plan`.
#include <fmt/format.h>

#include <cmath>

#include "plan/report.h"
#include "plan/week.h"

namespace sluice::plan {

namespace {

std::string pct(double share) { return fmt::format("{:.0f} %", share * 100); }

std::string seconds_text(double s) {
  if (!std::isfinite(s)) {
    return "unbounded";
  }
  return s < 1 ? fmt::format("{:.0f} ms", s * 1000) : fmt::format("{:.2f} s", s);
}

std::string option_name(const OptionPlan& o) { return o.kind; }

void observed_lines(std::string& out, const Observed& o) {
  out += fmt::format(
      "  observed: {:.2f} h, {} requests answered upstream ({} failed, {} from the gateway cache); API cost "
      "at "
      "the plan's prices {} (the ledger recorded {})\n",
      o.hours, thousands(o.upstream_requests), thousands(o.failed_requests), thousands(o.cached_requests),
      fmt::format("${:.6f}", o.api_cost_usd), fmt::format("${:.6f}", o.ledger_cost_usd));
}

void traffic_lines(std::string& out, const PlanResult& r) {
  const auto& t = r.traffic;
  out += fmt::format(
      "traffic (typical week): {} requests (+{} from the cache), mean {:.2f} req/s, peak {:.2f} req/s ({})\n",
      thousands(t.week_requests), thousands(t.week_cached), t.mean_rps, t.peak_rps, hour_label(t.peak_hour));
  out += fmt::format("  {:<22} {:>12} {:>8} {:>6} {:>10} {:>6} {:>12} {:>6}\n", "model", "req/week", "prompt",
                     "hit", "completion", "defer", "API $/week", "engine");
  for (const auto& m : t.models) {
    out += fmt::format("  {:<22} {:>12} {:>8.0f} {:>6} {:>10.0f} {:>6} {:>12} {:>6}\n", m.name,
                       thousands(m.week_requests), m.mean_prompt, pct(m.cache_hit_share), m.mean_completion,
                       pct(m.deferrable_share), m.priced ? usd(m.week_api_usd) : "no price",
                       m.self_hosted ? "yes" : "no");
  }
}

void engine_lines(std::string& out, const PlanConfig& cfg, const PlanResult& r) {
  if (!cfg.engine || !r.engine) {
    out += "engine: none (API only)\n";
    return;
  }
  const auto& e = *cfg.engine;
  out += fmt::format("engine: {}\n", e.source);
  out += fmt::format("  batch {}, prefill {} tok/s, decode {} tok/s per replica of {} GPU(s){}\n", e.batch,
                     thousands(e.prefill_tokens_per_s), thousands(e.decode_tokens_per_s), e.gpus,
                     e.file.empty() ? "" : " (from " + e.file + ")");
  out += fmt::format(
      "  mean request: {} of service, {} of it prefill; one replica takes {:.2f} req/s within the SLO\n",
      seconds_text(r.engine->service_s), seconds_text(r.engine->prefill_s), r.engine->replica_rps);
}

void option_lines(std::string& out, const PlanResult& r) {
  out += fmt::format("{:<12} {:>5} {:>12} {:>11} {:>11} {:>14} {:>6} {:>22} {:>7}  {}\n", "option", "defer",
                     "$/month", "API $/mo", "GPU $/mo", "replicas", "util", "p99 TTFT (worst hour)", "to API",
                     "fleet");
  for (const auto& o : r.options) {
    const bool engine = o.kind != "api";
    const std::string replicas =
        engine ? fmt::format("{}/{:.1f}/{}", o.min_replicas, o.mean_replicas, o.max_replicas) : "-";
    const std::string ttft =
        engine && o.worst_p99_ttft_s > 0
            ? fmt::format("{} ({})", seconds_text(o.worst_p99_ttft_s), hour_label(o.worst_hour))
            : "-";
    out += fmt::format("{:<12} {:>5} {:>12} {:>11} {:>11} {:>14} {:>6} {:>22} {:>7}  {}\n", option_name(o),
                       o.deferred ? "yes" : "no", usd(o.month_usd()), usd(o.api_usd * kWeeksPerMonth),
                       usd(o.gpu_usd * kWeeksPerMonth), replicas, engine ? pct(o.utilisation) : "-", ttft,
                       pct(o.api_request_share), o.fleet);
  }
  std::string targets;
  for (const auto& o : r.options) {
    if (o.deferred) {
      targets += fmt::format("{}{} to {}", targets.empty() ? "" : "; ", o.kind, o.deferred_to);
    }
  }
  out += "  deferred work goes: " + targets + "\n";
  for (const auto& o : r.options) {
    if (o.kind == "self-hosted" && !o.deferred && !o.alternatives.empty()) {
      std::string alt;
      for (const auto& a : o.alternatives) {
        alt += fmt::format("{}{} {}/month", alt.empty() ? "" : ", ", a.name.empty() ? "-" : a.name,
                           usd(a.total_usd() * kWeeksPerMonth));
      }
      out += "  self-hosted without the tier mix: " + alt + "\n";
    }
    if (o.kind == "self-hosted" && o.short_minutes > 0) {
      out += fmt::format(
          "  self-hosted{}: autoscaling leaves the fleet below the need {} min a week (cooldowns and "
          "provision time; see autoscaling.predictive)\n",
          o.deferred ? " (deferred)" : "", o.short_minutes);
    }
    if (o.kind == "self-hosted" && !o.slo_feasible) {
      out += "  self-hosted: the SLO cannot be met: the prefill of a p99 prompt alone takes longer\n";
    }
  }
}

void break_even_lines(std::string& out, const PlanResult& r) {
  const auto& b = r.break_even;
  if (b.lines.empty()) {
    return;
  }
  out += "break-even (one GPU over a year; utilisation = share of the year's hours it is busy):\n";
  std::string costs;
  for (const auto& l : b.lines) {
    std::string text =
        l.fixed > 0 && l.per_use > 0
            ? fmt::format("{} {}/year + {}/h in use", l.name, usd(l.fixed), usd(l.per_use / kHoursPerYear))
        : l.fixed > 0 ? fmt::format("{} {}/year", l.name, usd(l.fixed))
                      : fmt::format("{} {}/h ({}/year at full use)", l.name, usd(l.per_use / kHoursPerYear),
                                    usd(l.per_use));
    costs += (costs.empty() ? "  " : "; ") + text;
  }
  out += costs + "\n";
  for (const auto& c : b.crossings) {
    out += "  " + crossing_text(c) + "\n";
  }
}

void settings_lines(std::string& out, const PlanConfig& cfg, const PlanResult& r) {
  const auto& s = r.settings;
  out += "settings to configure:\n";
  out += fmt::format(
      "  gateway: {}–{} replicas (bound by {}); autoscale on sluice_requests_in_flight at {} per replica or "
      "{} "
      "req/s per replica; peak {} requests in flight (mean request {})\n",
      s.gateway_min, s.gateway_max, s.gateway_bound_by, thousands(s.gateway_in_flight_target),
      thousands(s.gateway_rps_target), thousands(s.gateway_peak_in_flight),
      seconds_text(s.request_duration_s));
  if (s.engine_max > 0) {
    const auto& a = cfg.autoscaling;
    out += fmt::format(
        "  engine: {}–{} replicas; target {:.1f} running + waiting sequences per replica (vLLM: "
        "vllm:num_requests_running + vllm:num_requests_waiting); scale-up cooldown {} min, scale-down window "
        "{} "
        "min, provision {} min\n",
        s.engine_min, s.engine_max, s.engine_sequences_target, a.scale_up_cooldown_min,
        a.scale_down_cooldown_min, a.provision_min);
  }
  for (const auto& o : r.options) {
    if (o.kind == "hybrid" && !o.deferred && o.hybrid_rate_limit > 0) {
      out += fmt::format(
          "  hybrid: keep {} self-hosted replica(s); send them up to {:.2f} req/s (about {:.0f} requests in "
          "flight), "
          "the rest to the API\n",
          o.max_replicas, o.hybrid_rate_limit, o.hybrid_in_flight);
    }
  }
}

}  // namespace

std::string thousands(double v) {
  if (!std::isfinite(v)) {
    return "-";
  }
  const bool neg = v < 0;
  auto digits = fmt::format("{:.0f}", std::fabs(v));
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) {
      out += ',';
    }
    out += digits[i];
  }
  return neg ? "-" + out : out;
}

std::string usd(double v) {
  if (std::fabs(v) < 100) {
    return fmt::format("${:.2f}", v);
  }
  return "$" + thousands(v);
}

std::string crossing_text(const Crossing& c) {
  if (!c.at) {
    const std::string& other = c.cheaper_below == c.a ? c.b : c.a;
    return fmt::format("{} is cheaper than {} at any utilisation", c.cheaper_below, other);
  }
  const double hours = *c.at * kHoursPerYear;
  return fmt::format("{} is cheaper than {} above {:.1f} % ({} h/year, {:.1f} days of full use)",
                     c.cheaper_above, c.cheaper_below, *c.at * 100, thousands(hours), hours / 24);
}

std::string format_table(const PlanConfig& cfg, const PlanResult& r) {
  std::string out = fmt::format("sluice plan: {} (plan {})\n", r.profile_source, cfg.source);
  if (r.observed) {
    observed_lines(out, *r.observed);
  }
  for (const auto& n : r.notes) {
    out += "  note: " + n + "\n";
  }
  traffic_lines(out, r);
  engine_lines(out, cfg, r);
  out += fmt::format("SLO: p99 first token {} with {:.0f} % headroom (utilisation at most {:.0f} %)\n\n",
                     seconds_text(cfg.slo.p99_first_token_s), cfg.slo.headroom * 100,
                     cfg.slo.max_utilisation() * 100);
  option_lines(out, r);
  out += "\n";
  break_even_lines(out, r);
  out += "\n";
  settings_lines(out, cfg, r);
  return out;
}

}  // namespace sluice::plan
