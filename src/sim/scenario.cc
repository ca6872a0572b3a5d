#include "sim/scenario.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "common/units.h"
#include "sim/builtin_scenarios.h"

namespace sluice::sim {

namespace {

struct ParseError {
  std::string msg;
};

class Reader {
 public:
  explicit Reader(std::string_view file) : file_(file) {}

  [[noreturn]] void fail(const YAML::Node& n, const std::string& path, const std::string& msg) const {
    int line = n.Mark().line >= 0 ? n.Mark().line + 1 : 0;
    throw ParseError{fmt::format("{}:{}: {}: {}", file_, line, path.empty() ? "(root)" : path, msg)};
  }

  std::string str(const YAML::Node& n, const std::string& path) const {
    if (!n.IsScalar()) {
      fail(n, path, "expected a scalar");
    }
    return n.Scalar();
  }

  Ms duration(const YAML::Node& n, const std::string& path) const {
    auto d = parse_duration(str(n, path));
    if (!d) {
      fail(n, path, "expected a duration like 250ms, 2s or 10m");
    }
    return *d;
  }

  double number(const YAML::Node& n, const std::string& path, double lo, double hi) const {
    std::string s = str(n, path);
    try {
      std::size_t used = 0;
      double v = std::stod(s, &used);
      if (used == s.size() && v >= lo && v <= hi) {
        return v;
      }
    } catch (const std::exception&) {
    }
    fail(n, path, fmt::format("expected a number in [{}, {}], got '{}'", lo, hi, s));
  }

  uint64_t count(const YAML::Node& n, const std::string& path) const {
    return static_cast<uint64_t>(number(n, path, 0, 1e12));
  }

  double rate(const YAML::Node& n, const std::string& path) const { return number(n, path, 0, 1); }

  bool boolean(const YAML::Node& n, const std::string& path) const {
    std::string s = str(n, path);
    if (s == "true") {
      return true;
    }
    if (s == "false") {
      return false;
    }
    fail(n, path, "expected true or false");
  }

  void map_of(const YAML::Node& n, const std::string& path) const {
    if (!n.IsMap()) {
      fail(n, path, "expected a mapping");
    }
  }

  // {p50: X, p99: Y}, or a single value for a constant.
  LogNormal dist(const YAML::Node& n, const std::string& path, bool as_duration) const {
    auto value = [&](const YAML::Node& v, const std::string& p) {
      return as_duration ? static_cast<double>(duration(v, p).count()) : number(v, p, 0, 1e9);
    };
    if (n.IsScalar()) {
      double v = value(n, path);
      return LogNormal{v, v};
    }
    map_of(n, path);
    double p50 = 0;
    double p99 = -1;
    for (const auto& kv : n) {
      std::string k = kv.first.Scalar();
      std::string p = path + "." + k;
      if (k == "p50") {
        p50 = value(kv.second, p);
      } else if (k == "p99") {
        p99 = value(kv.second, p);
      } else {
        fail(kv.first, p, "unknown key (expected p50, p99)");
      }
    }
    if (p99 < 0) {
      p99 = p50;
    }
    if (p99 < p50) {
      fail(n, path, "p99 must be >= p50");
    }
    return LogNormal{p50, p99};
  }

  OverloadPolicy overload(const YAML::Node& n, const std::string& path) const {
    std::string s = str(n, path);
    if (s == "queue") {
      return OverloadPolicy::kQueue;
    }
    if (s == "503") {
      return OverloadPolicy::kReject503;
    }
    if (s == "429") {
      return OverloadPolicy::kReject429;
    }
    if (s == "429-retry-after") {
      return OverloadPolicy::kReject429RetryAfter;
    }
    fail(n, path, "expected one of queue, 503, 429, 429-retry-after");
  }

  void faults(const YAML::Node& n, const std::string& path, FaultRates& f) const {
    map_of(n, path);
    for (const auto& kv : n) {
      std::string k = kv.first.Scalar();
      std::string p = path + "." + k;
      if (k == "reset_before_headers") {
        f.reset_before_headers = rate(kv.second, p);
      } else if (k == "reset_mid_stream") {
        f.reset_mid_stream = rate(kv.second, p);
      } else if (k == "stall") {
        f.stall = rate(kv.second, p);
      } else if (k == "truncate") {
        f.truncate = rate(kv.second, p);
      } else if (k == "malformed") {
        f.malformed = rate(kv.second, p);
      } else if (k == "slow_first_token") {
        f.slow_first_token = rate(kv.second, p);
      } else if (k == "slow_first_token_ttft") {
        f.slow_first_token_ttft = duration(kv.second, p);
      } else {
        fail(kv.first, p, "unknown key");
      }
    }
  }

  void phase(const YAML::Node& n, const std::string& path, Phase& ph) const {
    map_of(n, path);
    for (const auto& kv : n) {
      std::string k = kv.first.Scalar();
      std::string p = path + "." + k;
      const auto& v = kv.second;
      if (k == "name") {
        ph.name = str(v, p);
      } else if (k == "duration") {
        ph.duration = duration(v, p);
      } else if (k == "slots") {
        ph.slots = count(v, p);
      } else if (k == "account_concurrency") {
        ph.account_concurrency = count(v, p);
      } else if (k == "max_queue") {
        ph.max_queue = count(v, p);
      } else if (k == "overload") {
        ph.overload = overload(v, p);
      } else if (k == "max_wait") {
        ph.max_wait = duration(v, p);
      } else if (k == "keepalive_interval") {
        ph.keepalive_interval = duration(v, p);
        if (ph.keepalive_interval.count() <= 0) {
          fail(v, p, "must be > 0");
        }
      } else if (k == "retry_after") {
        ph.retry_after = duration(v, p);
      } else if (k == "ttft") {
        ph.ttft.dist = dist(v, p, true);
      } else if (k == "itl") {
        ph.itl.dist = dist(v, p, true);
      } else if (k == "output_tokens") {
        ph.output_tokens = dist(v, p, false);
      } else if (k == "kv_tokens_per_slot") {
        ph.kv_tokens_per_slot = count(v, p);
      } else if (k == "errors") {
        map_of(v, p);
        double total = 0;
        for (const auto& e : v) {
          std::string ep = p + "." + e.first.Scalar();
          double code = number(e.first, ep, 400, 599);
          double r = rate(e.second, ep);
          total += r;
          ph.errors[static_cast<unsigned>(code)] = r;
        }
        if (total > 1.0 + 1e-9) {
          fail(v, p, "error rates add up to more than 1");
        }
      } else if (k == "faults") {
        faults(v, p, ph.faults);
      } else if (k == "outage") {
        std::string s = str(v, p);
        if (s == "none") {
          ph.outage = OutageMode::kNone;
        } else if (s == "errors") {
          ph.outage = OutageMode::kErrors;
        } else if (s == "refuse") {
          ph.outage = OutageMode::kRefuse;
        } else {
          fail(v, p, "expected none, errors or refuse");
        }
      } else if (k == "outage_status") {
        ph.outage_status = static_cast<unsigned>(number(v, p, 400, 599));
      } else {
        fail(kv.first, p, "unknown key");
      }
    }
  }

  Scenario scenario(const YAML::Node& root) const {
    Scenario sc;
    map_of(root, "");
    Phase defaults;
    if (auto d = root["defaults"]) {
      phase(d, "defaults", defaults);
    }
    sc.phases = {defaults};
    for (const auto& kv : root) {
      std::string k = kv.first.Scalar();
      const auto& v = kv.second;
      if (k == "name") {
        sc.name = str(v, k);
      } else if (k == "loop") {
        sc.loop = boolean(v, k);
      } else if (k == "models") {
        if (!v.IsSequence() || v.size() == 0) {
          fail(v, k, "expected a non-empty list of model ids");
        }
        sc.models.clear();
        for (std::size_t i = 0; i < v.size(); ++i) {
          sc.models.push_back(str(v[i], fmt::format("models[{}]", i)));
        }
      } else if (k == "defaults") {
        continue;
      } else if (k == "phases") {
        if (!v.IsSequence() || v.size() == 0) {
          fail(v, k, "expected a non-empty list of phases");
        }
        sc.phases.clear();
        for (std::size_t i = 0; i < v.size(); ++i) {
          Phase ph = defaults;
          ph.name = fmt::format("phase{}", i + 1);
          phase(v[i], fmt::format("phases[{}]", i), ph);
          if (!ph.duration && i + 1 < v.size()) {
            fail(v[i], fmt::format("phases[{}].duration", i), "required for every phase but the last");
          }
          sc.phases.push_back(std::move(ph));
        }
      } else {
        fail(kv.first, k, "unknown key");
      }
    }
    if (sc.loop && !sc.phases.back().duration) {
      fail(root, "loop", "a looping timeline needs a duration on every phase");
    }
    return sc;
  }

 private:
  std::string file_;
};

}  // namespace

std::size_t Scenario::phase_index_at(Ms elapsed) const {
  Ms total{0};
  for (const auto& p : phases) {
    if (!p.duration) {
      break;
    }
    total += *p.duration;
  }
  if (loop && total.count() > 0) {
    elapsed = Ms(elapsed.count() % total.count());
  }
  Ms start{0};
  for (std::size_t i = 0; i < phases.size(); ++i) {
    if (!phases[i].duration || elapsed < start + *phases[i].duration) {
      return i;
    }
    start += *phases[i].duration;
  }
  return phases.size() - 1;  // past the end: the last phase stays in force
}

ScenarioParse parse_scenario_yaml(std::string_view text, std::string_view filename) {
  ScenarioParse r;
  Reader reader{filename};
  try {
    YAML::Node root = YAML::Load(std::string(text));
    r.scenario = reader.scenario(root);
  } catch (const ParseError& e) {
    r.error = e.msg;
  } catch (const YAML::Exception& e) {
    r.error = fmt::format("{}:{}: (root): {}", filename, e.mark.line + 1, e.msg);
  }
  return r;
}

ScenarioParse load_scenario_file(const std::string& path) {
  std::ifstream in{path};
  if (!in) {
    return {std::nullopt, fmt::format("{}: cannot open scenario file", path)};
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_scenario_yaml(ss.str(), path);
}

std::optional<Scenario> builtin_scenario(std::string_view name) {
  for (const auto& b : kBuiltinScenarios) {
    if (b.name == name) {
      auto r = parse_scenario_yaml(b.yaml, fmt::format("<builtin {}>", name));
      return r.scenario;
    }
  }
  return std::nullopt;
}

std::vector<std::string_view> builtin_scenario_names() {
  std::vector<std::string_view> names;
  for (const auto& b : kBuiltinScenarios) {
    names.push_back(b.name);
  }
  return names;
}

ScenarioParse resolve_scenario(const std::string& name_or_path) {
  if (auto s = builtin_scenario(name_or_path)) {
    return {std::move(s), {}};
  }
  if (name_or_path.find('/') == std::string::npos && name_or_path.find(".yaml") == std::string::npos &&
      name_or_path.find(".yml") == std::string::npos) {
    return {std::nullopt, fmt::format("unknown scenario '{}' (built-ins: {}; or give a .yaml file)",
                                      name_or_path, fmt::join(builtin_scenario_names(), ", "))};
  }
  return load_scenario_file(name_or_path);
}

std::string_view to_string(OverloadPolicy p) {
  switch (p) {
    case OverloadPolicy::kQueue: return "queue";
    case OverloadPolicy::kReject503: return "503";
    case OverloadPolicy::kReject429: return "429";
    case OverloadPolicy::kReject429RetryAfter: return "429-retry-after";
  }
  return "queue";
}

}  // namespace sluice::sim
