#include "bench/bench_main.h"

#include <fmt/format.h>
#include <unistd.h>

#include <csignal>
#include <ctime>
#include <fstream>

#include "bench/client.h"
#include "bench/prompts.h"
#include "bench/report.h"
#include "bench/runner.h"

namespace sluice::bench {

namespace {
constexpr unsigned kBuiltinPrompts = 64;

int fail(int code, const std::string& message) {
  std::fprintf(stderr, "sluice bench: %s\n", message.c_str());
  return code;
}

std::string request_head(const BenchConfig& c, const Target& t, std::size_t body_size, const MixClass* cls) {
  std::string head =
      fmt::format("POST {} HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\n", t.path,
                  t.host.find(':') != std::string::npos ? "[" + t.host + "]" : t.host, t.port);
  head += c.stream ? "Accept: text/event-stream\r\n" : "Accept: application/json\r\n";
  head += "User-Agent: sluice-bench\r\n";
  for (const auto& h : c.headers) {
    head += fmt::format("{}: {}\r\n", h.name, h.value);
  }
  if (cls != nullptr) {
    head += fmt::format("{}: {}\r\n", c.mix_header, cls->value);
  }
  head += fmt::format("Content-Length: {}\r\n\r\n", body_size);
  return head;
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

bool write_file(const std::string& path, const std::string& text, std::string& error) {
  if (path == "-") {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return true;
  }
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    error = fmt::format("cannot write '{}'", path);
    return false;
  }
  return true;
}
}  // namespace

int run_bench(const BenchOptions& options) {
  BenchConfig cfg;
  if (auto err = validate(options, cfg); !err.empty()) {
    return fail(2, err);
  }
  std::vector<Prompt> prompts;
  if (!cfg.prompts_file.empty()) {
    if (auto err = load_prompts_file(cfg.prompts_file, prompts); !err.empty()) {
      return fail(2, err);
    }
  } else {
    prompts = generate_prompts(cfg.prompt_tokens, kBuiltinPrompts, cfg.seed);
  }
  // Every request's bytes are built up front: the hot loop only writes them.
  const BodyOptions body_opts{cfg.model, cfg.stream, cfg.include_usage, cfg.max_tokens};
  const std::size_t classes = std::max<std::size_t>(cfg.mix.size(), 1);
  Runner::Requests requests(classes, std::vector<std::vector<std::string>>(cfg.targets.size()));
  for (std::size_t c = 0; c < classes; ++c) {
    const MixClass* cls = cfg.mix.empty() ? nullptr : &cfg.mix[c];
    for (std::size_t t = 0; t < cfg.targets.size(); ++t) {
      for (const auto& p : prompts) {
        std::string body = build_body(body_opts, p);
        requests[c][t].push_back(request_head(cfg, cfg.targets[t], body.size(), cls) + body);
      }
    }
  }
  // Outputs are checked before the run so a typo does not waste it.
  for (const auto* path : {&cfg.json_out, &cfg.html_out, &cfg.engine_out}) {
    if (!path->empty() && *path != "-") {
      std::ofstream probe(*path, std::ios::app);
      if (!probe) {
        return fail(2, fmt::format("cannot write '{}'", *path));
      }
    }
  }
  std::signal(SIGPIPE, SIG_IGN);

  net::io_context ioc(1);
  std::unique_ptr<ssl::context> tls;
  std::vector<std::unique_ptr<TargetPool>> pools;
  for (const auto& t : cfg.targets) {
    if (t.tls && !tls) {
      std::string err;
      tls = make_client_tls(cfg.insecure, err);
      if (!tls) {
        return fail(1, err);
      }
    }
    pools.push_back(
        std::make_unique<TargetPool>(ioc.get_executor(), t, cfg.connections, t.tls ? tls.get() : nullptr));
  }
  for (auto& p : pools) {
    if (auto ec = p->resolve()) {
      return fail(1, fmt::format("cannot resolve {}: {}", p->target().host, ec.message()));
    }
  }

  const bool progress = !cfg.quiet && ::isatty(STDERR_FILENO) != 0;
  const std::string started_at = utc_now();
  Recorder recorder(Clock::now());
  std::vector<Recorder> by_class(cfg.mix.size(), Recorder(recorder.start()));
  Runner runner(cfg, pools, requests, recorder, by_class, progress);
  try {
    runner.start(ioc.get_executor());
    ioc.run();
  } catch (const std::exception& e) {
    return fail(1, fmt::format("internal error: {}", e.what()));
  }

  RunInfo info{cfg, recorder, started_at, &by_class};
  const std::string table = format_table(info);
  std::string err;
  if (cfg.json_out == "-") {
    std::fputs(table.c_str(), stderr);  // stdout carries the JSON
  } else {
    std::fputs(table.c_str(), stdout);
    std::fflush(stdout);
  }
  if (!cfg.json_out.empty() && !write_file(cfg.json_out, format_json(info), err)) {
    return fail(1, err);
  }
  if (!cfg.html_out.empty() && !write_file(cfg.html_out, format_html(info), err)) {
    return fail(1, err);
  }
  if (!cfg.engine_out.empty()) {
    const std::string engine = format_engine_file(info, err);
    if (engine.empty() || !write_file(cfg.engine_out, engine, err)) {
      return fail(1, err);
    }
  }
  return 0;
}

}  // namespace sluice::bench
