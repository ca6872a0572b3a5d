// /batches: create (from an uploaded input file), retrieve, list (newest first, cursor `after`), cancel.
#include <fmt/format.h>

#include "batch/api.h"
#include "batch/api_json.h"
#include "batch/batch_metrics.h"
#include "batch/prepare.h"

namespace sluice::batch {

namespace {
using store::Store;

net::awaitable<ApiAnswer> create(BatchService& svc, std::string_view owner, const http::Request& req) {
  const auto cfg = svc.config();
  CreateParams p;
  if (auto bad = parse_create_params(req.body(), cfg->batch, p)) {
    batch_metrics().rejected->inc();
    co_return api_error(400, bad->message, bad->code, bad->param);
  }
  const std::string key(owner);
  auto get_file_job = [key, id = p.input_file_id](Store& s) {
    auto meta = s.get_file(key, id);
    return meta ? std::optional(std::pair(*meta, s.file_content(key, id).value_or(""))) : std::nullopt;
  };
  auto file = co_await svc.store().call(get_file_job);
  if (!file) {
    co_return api_error(404, fmt::format("No such File object: {}", p.input_file_id), "not_found",
                        "input_file_id");
  }
  if (file->first.purpose != "batch") {
    co_return api_error(
        400, fmt::format("file {} has purpose {}, not batch", p.input_file_id, file->first.purpose),
        "invalid_value", "input_file_id");
  }
  const PrepareInput in{
      *cfg, owner, p, file->second, svc.clock().plan_ms(), &svc.rates(), svc.clock().scale()};
  Prepared prep = prepare_batch(in, new_batch_id());
  auto create_batch_job = [rec = prep.record, lines = std::move(prep.lines)](Store& s) {
    std::string e;
    s.create_batch(rec, lines, e);
    return e;
  };
  auto error = co_await svc.store().call(create_batch_job);
  if (!error.empty()) {
    co_return api_error(500, "the batch could not be stored: " + error, "store_error");
  }
  batch_metrics().created->inc();
  co_return json_answer(batch_json(prep.record));
}

net::awaitable<ApiAnswer> list(BatchService& svc, std::string_view owner, const http::Request& req) {
  std::string error;
  auto limit = parse_limit(req.target(), 20, 100, error);
  if (!limit) {
    co_return api_error(400, error, "invalid_value", "limit");
  }
  store::ListQuery q;
  q.owner = owner;
  q.limit = *limit;
  q.after = query_param(req.target(), "after");
  auto list_batches_job = [q](Store& s) { return s.list_batches(q); };
  auto rows = co_await svc.store().call(list_batches_job);
  const bool more = rows.size() > q.limit;
  rows.resize(std::min(rows.size(), q.limit));
  std::vector<std::string> items, ids;
  for (const auto& b : rows) {
    items.push_back(batch_json(b));
    ids.push_back(b.id);
  }
  co_return json_answer(list_json(items, ids, more));
}

net::awaitable<ApiAnswer> cancel(BatchService& svc, std::string_view owner, std::string_view id) {
  const std::int64_t now_s = svc.clock().plan_ms() / 1000;
  auto request_cancel_job = [key = std::string(owner), bid = std::string(id), now_s](Store& s) {
    return s.request_cancel(key, bid, now_s);
  };
  auto b = co_await svc.store().call(request_cancel_job);
  if (!b) {
    co_return not_found("Batch", id);
  }
  if (b->status != "cancelling" && b->status != "cancelled") {
    co_return api_error(400, fmt::format("batch {} is {} and cannot be cancelled", b->id, b->status),
                        "batch_not_cancellable", "id");
  }
  co_return json_answer(batch_json(*b));
}
}  // namespace

net::awaitable<ApiAnswer> batches_collection(BatchService& svc, std::string_view owner,
                                             const http::Request& req) {
  if (req.method() == bhttp::verb::post) {
    co_return co_await create(svc, owner, req);
  }
  co_return co_await list(svc, owner, req);
}

net::awaitable<ApiAnswer> batch_object(BatchService& svc, std::string_view id, bool cancel_it,
                                       std::string_view owner, const http::Request& req) {
  const auto method = req.method();
  if (cancel_it) {
    if (method != bhttp::verb::post) {
      co_return method_not_allowed(req, "POST");
    }
    co_return co_await cancel(svc, owner, id);
  }
  if (method != bhttp::verb::get && method != bhttp::verb::head) {
    co_return method_not_allowed(req, "GET");
  }
  auto get_batch_job = [key = std::string(owner), bid = std::string(id)](Store& s) {
    auto b = s.get_batch(key, bid);
    return b ? std::optional(std::pair(*b, s.batch_usage(bid))) : std::nullopt;
  };
  auto got = co_await svc.store().call(get_batch_job);
  co_return got ? json_answer(batch_json(got->first, &got->second)) : not_found("Batch", id);
}

}  // namespace sluice::batch
