#include "batch/api.h"

#include <fmt/format.h>

#include <boost/url.hpp>
#include <charconv>
#include <random>

#include "common/json.h"
#include "common/strings.h"

namespace sluice::batch {

bool is_batch_path(std::string_view path) {
  for (std::string_view base : {std::string_view("/files"), std::string_view("/batches")}) {
    if (path == base || (path.starts_with(base) && path.size() > base.size() && path[base.size()] == '/')) {
      return true;
    }
  }
  return false;
}

ApiAnswer api_error(unsigned status, std::string_view message, std::string_view code,
                    std::string_view param) {
  std::string body = R"({"error":{"message":)";
  append_json_string(body, message);
  body += R"(,"type":"invalid_request_error","param":)";
  if (param.empty()) {
    body += "null";
  } else {
    append_json_string(body, param);
  }
  body += R"(,"code":)";
  append_json_string(body, code);
  body += "}}";
  return ApiAnswer{status, std::move(body)};
}

ApiAnswer not_found(std::string_view what, std::string_view id) {
  return api_error(404, fmt::format("No such {} object: {}", what, id), "not_found", "id");
}

ApiAnswer json_answer(std::string body) { return ApiAnswer{200, std::move(body)}; }

std::string query_param(std::string_view target, std::string_view name) {
  auto u = boost::urls::parse_origin_form(target);
  if (!u) {
    return {};
  }
  for (auto p : u->params()) {
    if (p.key == name) {
      return std::string(p.value);
    }
  }
  return {};
}

std::optional<std::size_t> parse_limit(std::string_view target, std::size_t dflt, std::size_t max,
                                       std::string& error) {
  const std::string s = query_param(target, "limit");
  if (s.empty()) {
    return dflt;
  }
  std::size_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || v < 1 || v > max) {
    error = fmt::format("limit must be an integer between 1 and {}", max);
    return std::nullopt;
  }
  return v;
}

bool is_object_id(std::string_view id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

namespace {
std::string random_token(std::size_t n) {
  static constexpr std::string_view kChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  thread_local std::mt19937_64 rng{(std::uint64_t{std::random_device{}()} << 32) | std::random_device{}()};
  std::uniform_int_distribution<std::size_t> pick(0, kChars.size() - 1);
  std::string out(n, ' ');
  for (char& c : out) {
    c = kChars[pick(rng)];
  }
  return out;
}
}  // namespace

std::string new_file_id() { return "file-" + random_token(24); }
std::string new_batch_id() { return "batch_" + random_token(24); }

ApiAnswer method_not_allowed(const http::Request& req, std::string_view allow) {
  ApiAnswer a = api_error(405,
                          fmt::format("method {} is not allowed on {}; use {}", req.method_string(),
                                      strip_query(req.target()), allow),
                          "method_not_allowed");
  a.allow = std::string(allow);
  return a;
}

net::awaitable<ApiAnswer> handle_batch_api(BatchService* svc, std::string_view path, std::string_view owner,
                                           const http::Request& req) {
  if (svc == nullptr) {
    co_return api_error(404, "the Batch API is not enabled on this gateway (config: batch.enabled)",
                        "batch_disabled");
  }
  const bool files = path.starts_with("/files");
  std::string_view rest = path.substr(files ? 6 : 8);
  const auto method = req.method();
  if (rest.empty() || rest == "/") {
    if (method != bhttp::verb::post && method != bhttp::verb::get) {
      co_return method_not_allowed(req, "GET, POST");
    }
    if (files) {
      co_return co_await files_collection(*svc, owner, req);
    }
    co_return co_await batches_collection(*svc, owner, req);
  }
  rest.remove_prefix(1);
  const auto slash = rest.find('/');
  const std::string_view id = rest.substr(0, slash);
  const std::string_view tail = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash);
  if (!is_object_id(id) || (!tail.empty() && tail != (files ? "/content" : "/cancel"))) {
    co_return api_error(404, fmt::format("Unknown request URL: {} {}", req.method_string(), req.target()),
                        "unknown_url");
  }
  if (files) {
    co_return co_await file_object(*svc, id, !tail.empty(), owner, req);
  }
  co_return co_await batch_object(*svc, id, !tail.empty(), owner, req);
}

}  // namespace sluice::batch
