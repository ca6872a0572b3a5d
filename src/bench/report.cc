#include "bench/report.h"

#include <fmt/format.h>

#include "common/json.h"

namespace sluice::bench {

namespace {
constexpr std::array<Outcome, kOutcomeCount - 1> kFailures = {
    Outcome::kHttp429, Outcome::kHttp503, Outcome::kHttp5xx, Outcome::kHttp4xx,   Outcome::kConnect,
    Outcome::kTimeout, Outcome::kReset,   Outcome::kEmpty,   Outcome::kTruncated, Outcome::kProtocol};

double rate(double n, double seconds) { return seconds > 0 ? n / seconds : 0.0; }

std::string mode_text(const BenchConfig& c) {
  return c.open_loop ? fmt::format("open loop, Poisson {:g} req/s", c.rate)
                     : fmt::format("closed loop, concurrency {}", c.concurrency);
}

std::string pct_line(const char* name, const Histogram& h, bool p90) {
  if (h.count() == 0) {
    return fmt::format("  {:<18} -\n", name);
  }
  if (p90) {
    return fmt::format("  {:<18} p50 {:>9}   p90 {:>9}   p99 {:>9}   max {:>9}\n", name,
                       format_us(h.percentile(0.5)), format_us(h.percentile(0.9)),
                       format_us(h.percentile(0.99)), format_us(h.max()));
  }
  return fmt::format("  {:<18} p50 {:>9}   p99 {:>9}   max {:>9}\n", name, format_us(h.percentile(0.5)),
                     format_us(h.percentile(0.99)), format_us(h.max()));
}

void json_hist(std::string& out, const Histogram& h) {
  out += fmt::format(
      "{{\"count\":{},\"min\":{:.3f},\"mean\":{:.3f},\"p50\":{:.3f},\"p90\":{:.3f},\"p99\":{:.3f},\"p999\":{:"
      ".3f},"
      "\"max\":{:.3f}}}",
      h.count(), h.min() / 1e3, h.mean() / 1e3, h.percentile(0.5) / 1e3, h.percentile(0.9) / 1e3,
      h.percentile(0.99) / 1e3, h.percentile(0.999) / 1e3, h.max() / 1e3);
}

void json_buckets(std::string& out, const Histogram& h) {
  out += '[';
  bool first = true;
  for (const auto& [v, c] : h.buckets()) {
    out += fmt::format("{}[{},{}]", first ? "" : ",", v, c);
    first = false;
  }
  out += ']';
}
}  // namespace

std::string format_us(std::uint64_t us) {
  if (us < 1000) {
    return fmt::format("{} µs", us);
  }
  if (us < 10'000) {
    return fmt::format("{:.2f} ms", us / 1e3);
  }
  if (us < 1'000'000) {
    return fmt::format("{:.1f} ms", us / 1e3);
  }
  return fmt::format("{:.2f} s", us / 1e6);
}

std::string format_table(const RunInfo& run) {
  const auto& c = run.config;
  const auto& r = run.recorder;
  const double secs = r.elapsed_seconds();
  const double n = static_cast<double>(r.completed());
  std::string out;
  out += fmt::format("sluice bench: {} target(s), model {}, {}, {}\n", c.targets.size(), c.model,
                     c.stream ? "streaming" : "non-streaming", mode_text(c));
  out += fmt::format("  {:<18} {}\n", "requests", r.completed());
  out += fmt::format("  {:<18} {:.2f} % ({} ok)\n", "success", n > 0 ? 100.0 * r.ok() / n : 0.0, r.ok());
  out += fmt::format("  {:<18} {:.3f} s\n", "elapsed", secs);
  out +=
      fmt::format("  {:<18} {:.1f} req/s ({:.1f} ok/s)\n", "throughput", rate(n, secs), rate(r.ok(), secs));
  out += fmt::format("  {:<18} {:.1f} tokens/s ({} completion tokens)\n", "goodput",
                     rate(r.ok_tokens(), secs), r.ok_tokens());
  if (c.stream) {
    out += pct_line("TTFT", r.ttft(), true);
    out += pct_line("ITL", r.itl(), false);
  }
  out += pct_line("latency (e2e)", r.e2e(), true);
  if (c.open_loop) {
    out += pct_line("send delay", r.queued(), true);
  }
  std::string errors;
  for (auto o : kFailures) {
    if (r.count(o) > 0) {
      errors += fmt::format("{}{} {}", errors.empty() ? "" : ", ", outcome_name(o), r.count(o));
    }
  }
  out += fmt::format("  {:<18} {}\n", "errors", errors.empty() ? "none" : errors);
  if (r.failed_e2e().count() > 0) {
    out += pct_line("failed (e2e)", r.failed_e2e(), true);
  }
  if (run.by_class != nullptr && !run.by_class->empty()) {
    for (std::size_t i = 0; i < run.by_class->size(); ++i) {
      const Recorder& k = (*run.by_class)[i];
      const double kn = static_cast<double>(k.completed());
      out += fmt::format("  {}: {}\n", c.mix_header, c.mix[i].value);
      out += fmt::format("    {:<16} {} ({:.2f} % ok)\n", "requests", k.completed(), kn > 0 ? 100.0 * k.ok() / kn : 0.0);
      out += "  " + pct_line("latency (e2e)", k.e2e(), true);
      if (c.stream) {
        out += "  " + pct_line("TTFT", k.ttft(), true);
      }
      if (k.failed_e2e().count() > 0) {
        out += "  " + pct_line("failed (e2e)", k.failed_e2e(), true);
      }
    }
  }
  return out;
}

std::string format_json(const RunInfo& run) {
  const auto& c = run.config;
  const auto& r = run.recorder;
  const double secs = r.elapsed_seconds();
  const double n = static_cast<double>(r.completed());
  std::string out = "{\"version\":1,\"started_at\":";
  append_json_string(out, run.started_at);
  out += ",\"config\":{\"urls\":[";
  for (std::size_t i = 0; i < c.targets.size(); ++i) {
    out += i ? "," : "";
    append_json_string(out, c.targets[i].url);
  }
  out += "],\"model\":";
  append_json_string(out, c.model);
  out += fmt::format(",\"stream\":{},\"mode\":\"{}\"", c.stream, c.open_loop ? "open" : "closed");
  if (c.open_loop) {
    out += fmt::format(",\"rate\":{}", c.rate);
  } else {
    out += fmt::format(",\"concurrency\":{}", c.concurrency);
  }
  out += c.requests ? fmt::format(",\"requests\":{}", *c.requests) : ",\"requests\":null";
  out += c.duration ? fmt::format(",\"duration_s\":{}", c.duration->count() / 1e3) : ",\"duration_s\":null";
  out +=
      fmt::format(",\"max_tokens\":{},\"prompt_tokens\":{},\"prompts_file\":", c.max_tokens, c.prompt_tokens);
  append_json_string(out, c.prompts_file);
  out += fmt::format(",\"timeout_s\":{},\"seed\":{},\"connections\":{}}}", c.timeout.count() / 1e3, c.seed,
                     c.connections);
  out += fmt::format(
      ",\"elapsed_s\":{:.6f},\"requests\":{},\"ok\":{},\"failed\":{},\"success_pct\":{:.4f},\"rps\":{:.3f},"
      "\"ok_rps\":{:.3f},\"completion_tokens\":{},\"goodput_tokens_per_s\":{:.3f}",
      secs, r.completed(), r.ok(), r.completed() - r.ok(), n > 0 ? 100.0 * r.ok() / n : 0.0, rate(n, secs),
      rate(r.ok(), secs), r.ok_tokens(), rate(r.ok_tokens(), secs));
  out += ",\"errors\":{";
  for (std::size_t i = 0; i < kFailures.size(); ++i) {
    out += fmt::format("{}\"{}\":{}", i ? "," : "", outcome_name(kFailures[i]), r.count(kFailures[i]));
  }
  out += "},\"latency_ms\":{\"e2e\":";
  json_hist(out, r.e2e());
  out += ",\"ttft\":";
  json_hist(out, r.ttft());
  out += ",\"itl\":";
  json_hist(out, r.itl());
  out += ",\"send_delay\":";
  json_hist(out, r.queued());
  out += ",\"failed_e2e\":";
  json_hist(out, r.failed_e2e());
  out += "}";
  if (run.by_class != nullptr && !run.by_class->empty()) {
    out += ",\"mix_header\":";
    append_json_string(out, c.mix_header);
    out += ",\"classes\":[";
    for (std::size_t i = 0; i < run.by_class->size(); ++i) {
      const Recorder& k = (*run.by_class)[i];
      out += i ? ",{\"value\":" : "{\"value\":";
      append_json_string(out, c.mix[i].value);
      out += fmt::format(",\"share\":{:.4f},\"requests\":{},\"ok\":{},\"success_pct\":{:.4f}", c.mix[i].weight,
                         k.completed(), k.ok(), k.completed() ? 100.0 * k.ok() / k.completed() : 0.0);
      out += ",\"errors\":{";
      for (std::size_t f = 0; f < kFailures.size(); ++f) {
        out += fmt::format("{}\"{}\":{}", f ? "," : "", outcome_name(kFailures[f]), k.count(kFailures[f]));
      }
      out += "},\"latency_ms\":{\"e2e\":";
      json_hist(out, k.e2e());
      out += ",\"ttft\":";
      json_hist(out, k.ttft());
      out += ",\"failed_e2e\":";
      json_hist(out, k.failed_e2e());
      out += "}}";
    }
    out += "]";
  }
  out += ",\"histograms_us\":{\"e2e\":";
  json_buckets(out, r.e2e());
  out += ",\"ttft\":";
  json_buckets(out, r.ttft());
  out += ",\"itl\":";
  json_buckets(out, r.itl());
  out += ",\"send_delay\":";
  json_buckets(out, r.queued());
  double step = 1;
  const auto tl = r.timeline(600, step);
  out += fmt::format("}},\"timeline_step_s\":{:g},\"timeline\":[", step);
  for (std::size_t i = 0; i < tl.size(); ++i) {
    out += fmt::format("{}{{\"t\":{:g},\"completed\":{},\"ok\":{},\"tokens\":{}}}", i ? "," : "",
                       static_cast<double>(i) * step, tl[i].completed, tl[i].ok, tl[i].tokens);
  }
  out += "]}\n";
  return out;
}

}  // namespace sluice::bench
