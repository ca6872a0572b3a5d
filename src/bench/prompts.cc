#include "bench/prompts.h"

#include <fmt/format.h>

#include <array>
#include <boost/json.hpp>
#include <fstream>
#include <random>
#include <sstream>

#include "common/json.h"

namespace sluice::bench {

namespace {
constexpr std::array<std::string_view, 32> kPromptWords = {
    "river",  "gate",   "token",  "model",  "stream", "cloud",  "signal", "vector",
    "prompt", "answer", "queue",  "route",  "cache",  "server", "window", "buffer",
    "packet", "thread", "kernel", "socket", "number", "letter", "table",  "field",
    "forest", "stone",  "light",  "shadow", "engine", "mirror", "garden", "planet"};
}  // namespace

std::vector<Prompt> generate_prompts(unsigned tokens, unsigned count, std::uint64_t seed) {
  std::mt19937_64 rng(seed ^ 0x5eed'ba5e'0000'0001ULL);
  // 0.3 token per ASCII character → this many characters for the target size.
  const std::size_t chars = (static_cast<std::size_t>(tokens) * 10 + 2) / 3;
  std::vector<Prompt> out;
  out.reserve(count);
  for (unsigned i = 0; i < count; ++i) {
    // A distinct opening per prompt so prefixes differ from the first block.
    std::string text = fmt::format("Request {} seed {}:", i, seed);
    while (text.size() < chars) {
      text += ' ';
      text += kPromptWords[rng() % kPromptWords.size()];
    }
    text.resize(std::max<std::size_t>(chars, 1));
    std::string msgs = "[{\"role\":\"user\",\"content\":";
    append_json_string(msgs, text);
    msgs += "}]";
    out.push_back(Prompt{std::move(msgs), std::nullopt});
  }
  return out;
}

std::string parse_prompts_jsonl(std::string_view text, std::string_view file_name, std::vector<Prompt>& out) {
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    auto nl = text.find('\n', pos);
    auto line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    auto b = line.find_first_not_of(" \t\r");
    if (b == std::string_view::npos || line[b] == '#') {
      continue;
    }
    boost::system::error_code ec;
    auto v = boost::json::parse(line, ec);
    if (ec || !v.is_object()) {
      return fmt::format("{}:{}: expected a JSON object per line", file_name, line_no);
    }
    const auto& o = v.as_object();
    Prompt p;
    if (const auto* m = o.if_contains("messages")) {
      if (!m->is_array() || m->as_array().empty()) {
        return fmt::format("{}:{}: \"messages\" must be a non-empty array", file_name, line_no);
      }
      p.messages_json = boost::json::serialize(*m);
    } else if (const auto* t = o.if_contains("prompt")) {
      if (!t->is_string()) {
        return fmt::format("{}:{}: \"prompt\" must be a string", file_name, line_no);
      }
      p.messages_json = "[{\"role\":\"user\",\"content\":";
      append_json_string(p.messages_json, std::string_view(t->as_string()));
      p.messages_json += "}]";
    } else {
      return fmt::format("{}:{}: expected \"messages\" or \"prompt\"", file_name, line_no);
    }
    if (const auto* mt = o.if_contains("max_tokens")) {
      if (!mt->is_int64() || mt->as_int64() <= 0 || mt->as_int64() > 10'000'000) {
        return fmt::format("{}:{}: \"max_tokens\" must be a positive integer", file_name, line_no);
      }
      p.max_tokens = static_cast<unsigned>(mt->as_int64());
    }
    out.push_back(std::move(p));
  }
  if (out.empty()) {
    return fmt::format("{}: no prompts", file_name);
  }
  return {};
}

std::string load_prompts_file(const std::string& path, std::vector<Prompt>& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return fmt::format("--prompts: cannot read '{}'", path);
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return parse_prompts_jsonl(ss.str(), path, out);
}

std::string build_body(const BodyOptions& o, const Prompt& p) {
  std::string body = "{\"model\":";
  append_json_string(body, o.model);
  body += ",\"messages\":";
  body += p.messages_json;
  body += fmt::format(",\"max_tokens\":{}", p.max_tokens.value_or(o.max_tokens));
  if (o.stream) {
    body += ",\"stream\":true";
    if (o.include_usage) {
      body += ",\"stream_options\":{\"include_usage\":true}";
    }
  } else {
    body += ",\"stream\":false";
  }
  body += '}';
  return body;
}

}  // namespace sluice::bench
