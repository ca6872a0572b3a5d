// `sluice plan --html FILE`: one self-contained page (inline CSS and SVG, no scripts, no external assets).
#include <fmt/format.h>

#include <cmath>

#include "plan/report.h"
#include "plan/svg_chart.h"
#include "plan/week.h"

namespace sluice::plan {

namespace {

constexpr const char* kPalette[] = {"#d0453a", "#e29a2d", "#3f8f4f", "#4a7bd0", "#7b4fb3", "#555555"};

std::string month_usd(double v) { return usd(v) + "/month"; }

const char* color(std::size_t i) { return kPalette[i % (sizeof kPalette / sizeof kPalette[0])]; }

LineChart cost_chart(const PlanResult& r) {
  LineChart c;
  c.id = "cost-vs-utilisation";
  c.title = "One GPU over a year: cost against utilisation";
  c.x_label = "utilisation (share of the year's hours the GPU is busy), %";
  c.y_label = "USD per year";
  c.x_min = 0;
  c.x_max = 100;
  for (int x = 0; x <= 100; x += 10) {
    c.x_ticks.emplace_back(x, fmt::format("{}", x));
  }
  const auto& lines = r.break_even.lines;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    ChartSeries s{lines[i].name, color(i), {}, lines[i].name == "API", false};
    for (int u = 0; u <= 100; u += 5) {
      s.points.emplace_back(u, lines[i].at(u / 100.0));
    }
    c.series.push_back(std::move(s));
  }
  for (const auto& x : r.break_even.crossings) {
    if (!x.at) {
      continue;
    }
    for (const auto& l : lines) {
      if (l.name == x.a) {
        c.markers.push_back({*x.at * 100, l.at(*x.at), crossing_text(x)});
      }
    }
  }
  return c;
}

const OptionPlan* find_option(const PlanResult& r, std::string_view kind, bool deferred) {
  for (const auto& o : r.options) {
    if (o.kind == kind && o.deferred == deferred) {
      return &o;
    }
  }
  return nullptr;
}

ChartSeries hourly(const std::string& name, const char* col, const HourValues& v, double scale, bool dashed,
                   bool step) {
  ChartSeries s{name, col, {}, dashed, step};
  for (int h = 0; h < kHoursPerWeek; ++h) {
    s.points.emplace_back(h, v[static_cast<std::size_t>(h)] * scale);
  }
  return s;
}

LineChart week_chart(const PlanResult& r) {
  LineChart c;
  c.id = "load-vs-capacity";
  c.x_label = "hour of the week (UTC)";
  c.x_min = 0;
  c.x_max = kHoursPerWeek;
  for (int d = 0; d < 7; ++d) {
    c.x_ticks.emplace_back(d * 24 + 12, hour_label(d * 24).substr(0, 3));
  }
  const OptionPlan* self = find_option(r, "self-hosted", false);
  const OptionPlan* self_deferred = find_option(r, "self-hosted", true);
  const OptionPlan* hybrid = find_option(r, "hybrid", false);
  if (self == nullptr) {
    // API only: the load is requests/s, with and without deferral.
    c.title = "Load across the week (requests/s)";
    c.y_label = "requests/s";
    c.series.push_back(
        hourly("requests/s", color(3), find_option(r, "api", false)->requests, 1 / 3600.0, false, true));
    c.series.push_back(hourly("deferred to off-peak", color(1), find_option(r, "api", true)->requests,
                              1 / 3600.0, true, true));
    return c;
  }
  c.title = "Load against capacity across the week (engine replicas)";
  c.y_label = "replicas";
  c.series.push_back(hourly("load (busy replicas)", color(3), self->load, 1, false, true));
  c.series.push_back(hourly("needed for the SLO", color(0), self->required, 1, false, true));
  c.series.push_back(hourly("autoscaled capacity", color(2), self->capacity, 1, false, false));
  if (self_deferred != nullptr) {
    c.series.push_back(hourly("load, deferred", color(4), self_deferred->load, 1, true, true));
  }
  if (hybrid != nullptr) {
    c.series.push_back(hourly("hybrid base", color(1), hybrid->capacity, 1, true, true));
  }
  return c;
}

std::string options_table(const PlanResult& r) {
  std::string out =
      "<table id=\"options\"><tr><th>option</th><th>defer</th><th>$/month</th><th>API $/month</th>"
      "<th>GPU $/month</th><th>replicas min/mean/max</th><th>utilisation</th><th>worst p99 TTFT</th>"
      "<th>to API</th><th>fleet</th></tr>";
  for (const auto& o : r.options) {
    const bool engine = o.kind != "api";
    out += fmt::format(
        "<tr data-option=\"{}{}\"><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
        "<td class=\"num\">{}</td><td>{}</td><td class=\"num\">{}</td><td>{}</td><td class=\"num\">{:.0f} "
        "%</td>"
        "<td>{}</td></tr>",
        o.kind, o.deferred ? "-deferred" : "", o.kind, o.deferred ? "yes" : "no", usd(o.month_usd()),
        usd(o.api_usd * kWeeksPerMonth), usd(o.gpu_usd * kWeeksPerMonth),
        engine ? fmt::format("{}/{:.1f}/{}", o.min_replicas, o.mean_replicas, o.max_replicas) : "-",
        engine ? fmt::format("{:.0f} %", o.utilisation * 100) : "-",
        engine && o.worst_p99_ttft_s > 0
            ? (std::isfinite(o.worst_p99_ttft_s)
                   ? fmt::format("{:.2f} s ({})", o.worst_p99_ttft_s, hour_label(o.worst_hour))
                   : std::string("unbounded"))
            : "-",
        o.api_request_share * 100, html_escape(o.fleet));
  }
  return out + "</table>";
}

}  // namespace

std::string format_html(const PlanConfig& cfg, const PlanResult& r) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>sluice plan</title><style>"
      "body{font-family:sans-serif;margin:24px;color:#222;max-width:1100px}"
      "table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ccc;padding:3px "
      "8px;font-size:13px}"
      "td.num{text-align:right}th{background:#f3f3f3}svg.chart{display:block;margin:18px 0}"
      "pre{background:#f7f7f7;padding:10px;overflow-x:auto;font-size:12px}</style></head><body>\n";
  out += fmt::format("<h1>sluice plan</h1><p>{} &middot; plan {}</p>\n", html_escape(r.profile_source),
                     html_escape(cfg.source));
  if (r.observed) {
    out += fmt::format(
        "<p id=\"observed\">Observed: {:.2f} h, {} requests; API cost at the plan's prices "
        "${:.6f} (the ledger recorded ${:.6f}).</p>\n",
        r.observed->hours, thousands(r.observed->upstream_requests), r.observed->api_cost_usd,
        r.observed->ledger_cost_usd);
  }
  for (const auto& n : r.notes) {
    out += "<p class=\"note\">Note: " + html_escape(n) + "</p>\n";
  }
  out += "<h2>Options</h2>\n" + options_table(r) + "\n";
  std::vector<std::pair<std::string, double>> bars;
  for (const auto& o : r.options) {
    bars.emplace_back(o.kind + (o.deferred ? ", deferred" : ""), o.month_usd());
  }
  out += render_bar_chart("cost-per-option", "Monthly cost per option", bars, month_usd) + "\n";
  out += "<h2>Load and capacity</h2>\n" + render_line_chart(week_chart(r)) + "\n";
  if (!r.break_even.lines.empty()) {
    out += "<h2>Break-even</h2>\n" + render_line_chart(cost_chart(r)) + "\n<ul id=\"break-even\">";
    for (const auto& c : r.break_even.crossings) {
      out += "<li>" + html_escape(crossing_text(c)) + "</li>";
    }
    out += "</ul>\n";
  }
  out += "<h2>Everything</h2>\n<pre>" + html_escape(format_table(cfg, r)) + "</pre>\n</body></html>\n";
  return out;
}

}  // namespace sluice::plan
