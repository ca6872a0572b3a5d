// /files: multipart upload of JSONL batch input (validated line by line as it is parsed), metadata, content,
// list and delete.
#include <fmt/format.h>

#include "batch/api.h"
#include "batch/api_json.h"
#include "batch/batch_metrics.h"
#include "batch/jsonl.h"
#include "batch/multipart.h"

namespace sluice::batch {

namespace {
using store::Store;

// Feeding the body in slices keeps the parser's buffer small whatever the upload's size.
constexpr std::size_t kFeedSlice = 64 * 1024;
constexpr std::size_t kMaxPurposeBytes = 64;

struct Upload {
  enum class Part { kNone, kPurpose, kFile } part = Part::kNone;
  std::string purpose, filename, content;
  bool has_purpose = false, has_file = false, too_large = false;
};

// Parses the multipart body into `up` (validating the file's lines into `v` as they arrive); an error answer
// when the form itself is malformed.
std::optional<ApiAnswer> read_upload(const http::Request& req, std::size_t max_file, Upload& up,
                                     JsonlValidator& v) {
  std::string error;
  auto boundary = form_data_boundary(req[bhttp::field::content_type], error);
  if (!boundary) {
    return api_error(400, error + " (upload the file as multipart/form-data with fields file and purpose)",
                     "invalid_content_type");
  }
  MultipartParser* self = nullptr;
  MultipartParser::Callbacks cb;
  cb.on_part = [&](const PartHeaders& h) {
    const bool is_file = h.name == "file";
    if (!is_file && h.name != "purpose") {
      self->fail(fmt::format("unexpected form field \"{}\" (expected file and purpose)", h.name));
      return false;
    }
    bool& seen = is_file ? up.has_file : up.has_purpose;
    if (seen) {
      self->fail(fmt::format("form field \"{}\" appears twice", h.name));
      return false;
    }
    seen = true;
    up.part = is_file ? Upload::Part::kFile : Upload::Part::kPurpose;
    if (is_file) {
      up.filename = h.filename.empty() ? "upload.jsonl" : h.filename;
    }
    return true;
  };
  cb.on_data = [&](std::string_view d) {
    if (up.part == Upload::Part::kPurpose) {
      up.purpose.append(d);
      return up.purpose.size() <= kMaxPurposeBytes || (self->fail("purpose is too long"), false);
    }
    if (up.content.size() + d.size() > max_file) {
      up.too_large = true;
      self->fail(fmt::format("the file is larger than {} bytes (batch.max_file_bytes)", max_file));
      return false;
    }
    up.content.append(d);
    v.feed(d);
    return true;
  };
  cb.on_part_end = [&] {
    up.part = Upload::Part::kNone;
    return true;
  };
  MultipartParser parser(*boundary, std::move(cb));
  self = &parser;
  std::string_view body = req.body();
  bool ok = true;
  for (std::size_t at = 0; ok && at < body.size(); at += kFeedSlice) {
    ok = parser.feed(body.substr(at, kFeedSlice));
  }
  if (ok && !parser.finish()) {
    ok = false;
  }
  if (up.too_large) {
    return api_error(413, parser.error(), "file_too_large", "file");
  }
  if (!ok) {
    return api_error(400, "malformed multipart/form-data body: " + parser.error(), "invalid_multipart");
  }
  return std::nullopt;
}

net::awaitable<ApiAnswer> upload(BatchService& svc, std::string_view owner, const http::Request& req) {
  const auto cfg = svc.config();
  Upload up;
  JsonlValidator v(cfg->batch.max_lines);
  if (auto bad = read_upload(req, cfg->batch.max_file_bytes, up, v)) {
    batch_metrics().rejected->inc();
    co_return *bad;
  }
  std::optional<ApiAnswer> bad;
  if (!up.has_file) {
    bad = api_error(400, "missing form field: file", "missing_required_parameter", "file");
  } else if (!up.has_purpose) {
    bad = api_error(400, "missing form field: purpose", "missing_required_parameter", "purpose");
  } else if (up.purpose != "batch") {
    bad = api_error(400,
                    fmt::format("purpose \"{}\" is not supported: this gateway stores batch input files only "
                                "(purpose: batch)",
                                up.purpose),
                    "invalid_purpose", "purpose");
  } else if (v.finish(), !v.ok()) {
    bad = api_error(400, "invalid batch input file: " + v.message(), "invalid_file", "file");
  }
  if (bad) {
    batch_metrics().rejected->inc();
    co_return *bad;
  }
  store::FileRecord f{new_file_id(),
                      std::string(owner),
                      up.purpose,
                      up.filename,
                      static_cast<std::int64_t>(up.content.size()),
                      svc.clock().plan_ms() / 1000};
  // Owned by the job: a store thread may outlive this coroutine at shutdown.
  auto put_file_job = [f, content = std::move(up.content)](Store& s) {
    std::string e;
    s.put_file(f, content, e);
    return e;
  };
  auto error = co_await svc.store().call(put_file_job);
  if (!error.empty()) {
    co_return api_error(500, "the file could not be stored: " + error, "store_error");
  }
  batch_metrics().uploads->inc();
  batch_metrics().upload_bytes->inc(double(f.bytes));
  co_return json_answer(file_json(f));
}

net::awaitable<ApiAnswer> list_files(BatchService& svc, std::string_view owner, const http::Request& req) {
  store::ListQuery q;
  std::string error;
  auto limit = parse_limit(req.target(), 10'000, 10'000, error);
  const std::string order = query_param(req.target(), "order");
  if (!limit) {
    co_return api_error(400, error, "invalid_value", "limit");
  }
  if (!order.empty() && order != "asc" && order != "desc") {
    co_return api_error(400, "order must be asc or desc", "invalid_value", "order");
  }
  q.owner = owner;
  q.limit = *limit;
  q.after = query_param(req.target(), "after");
  q.purpose = query_param(req.target(), "purpose");
  q.ascending = order == "asc";
  auto list_files_job = [q](Store& s) { return s.list_files(q); };
  auto rows = co_await svc.store().call(list_files_job);
  const bool more = rows.size() > q.limit;
  rows.resize(std::min(rows.size(), q.limit));
  std::vector<std::string> items, ids;
  for (const auto& f : rows) {
    items.push_back(file_json(f));
    ids.push_back(f.id);
  }
  co_return json_answer(list_json(items, ids, more));
}

}  // namespace

net::awaitable<ApiAnswer> file_object(BatchService& svc, std::string_view id, bool content,
                                      std::string_view owner, const http::Request& req) {
  const std::string key(owner), fid(id);
  if (req.method() == bhttp::verb::delete_ && !content) {
    auto delete_file_job = [key, fid](Store& s) { return s.delete_file(key, fid); };
    const bool gone = co_await svc.store().call(delete_file_job);
    co_return gone ? json_answer(deleted_json(fid)) : not_found("File", fid);
  }
  if (req.method() != bhttp::verb::get && req.method() != bhttp::verb::head) {
    co_return method_not_allowed(req, content ? "GET" : "GET, DELETE");
  }
  if (content) {
    auto file_content_job = [key, fid](Store& s) { return s.file_content(key, fid); };
    auto data = co_await svc.store().call(file_content_job);
    if (!data) {
      co_return not_found("File", fid);
    }
    co_return ApiAnswer{200, std::move(*data), "application/jsonl"};
  }
  auto get_file_job = [key, fid](Store& s) { return s.get_file(key, fid); };
  auto f = co_await svc.store().call(get_file_job);
  co_return f ? json_answer(file_json(*f)) : not_found("File", fid);
}
net::awaitable<ApiAnswer> files_collection(BatchService& svc, std::string_view owner,
                                           const http::Request& req) {
  if (req.method() == bhttp::verb::post) {
    co_return co_await upload(svc, owner, req);
  }
  co_return co_await list_files(svc, owner, req);
}

}  // namespace sluice::batch
