#pragma once
// The OpenAI-compatible Files and Batches routes (paths without the optional /v1 prefix):
//   POST /files  GET /files  GET /files/{id}  GET /files/{id}/content  DELETE /files/{id}
//   POST /batches  GET /batches  GET /batches/{id}  POST /batches/{id}/cancel
// Every object belongs to the virtual key that created it; other keys get 404. Store work runs on the
// store's threads; the answer comes back on the calling worker.
#include <string>
#include <string_view>

#include "batch/service.h"
#include "http/responder.h"

namespace sluice::batch {

struct ApiAnswer {
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::string allow;  // for 405
};

// True for /files, /files/..., /batches, /batches/... (after route_path() stripped /v1 and the query).
bool is_batch_path(std::string_view path);

// `path`: the route path; `owner`: the caller's virtual key ("" without keys). `svc` null: the API is off.
net::awaitable<ApiAnswer> handle_batch_api(BatchService* svc, std::string_view path, std::string_view owner,
                                           const http::Request& req);

// Shared by the handlers (api.cc).
ApiAnswer api_error(unsigned status, std::string_view message, std::string_view code,
                    std::string_view param = {});
ApiAnswer not_found(std::string_view what, std::string_view id);
ApiAnswer json_answer(std::string body);
// A query parameter of the request target (percent-decoded); empty when absent.
std::string query_param(std::string_view target, std::string_view name);
// ?limit=: 1..max, default `dflt`; nullopt (and `error`) when malformed.
std::optional<std::size_t> parse_limit(std::string_view target, std::size_t dflt, std::size_t max,
                                       std::string& error);
// Ids in paths: [A-Za-z0-9_-]{1,128}.
bool is_object_id(std::string_view id);
std::string new_file_id();
std::string new_batch_id();

ApiAnswer method_not_allowed(const http::Request& req, std::string_view allow);

// The collections (POST or GET) and their objects (/{id}, /{id}/content, /{id}/cancel).
net::awaitable<ApiAnswer> files_collection(BatchService& svc, std::string_view owner,
                                           const http::Request& req);
net::awaitable<ApiAnswer> file_object(BatchService& svc, std::string_view id, bool content,
                                      std::string_view owner, const http::Request& req);
net::awaitable<ApiAnswer> batches_collection(BatchService& svc, std::string_view owner,
                                             const http::Request& req);
net::awaitable<ApiAnswer> batch_object(BatchService& svc, std::string_view id, bool cancel,
                                       std::string_view owner, const http::Request& req);

}  // namespace sluice::batch
