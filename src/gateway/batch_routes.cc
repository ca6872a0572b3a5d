// The Batch API's routes on the gateway: the caller's virtual key, then batch::handle_batch_api (src/batch/).
#include "batch/api.h"
#include "common/strings.h"
#include "gateway/gateway.h"

namespace sluice::gateway {

net::awaitable<void> ProxyHandler::batch_route(http::Request& req, http::Responder& res) {
  std::string_view why;
  const std::string* key = identify(req, why);
  if (key == nullptr) {
    co_await unauthorized(res, why);
    co_return;
  }
  std::string_view path = strip_query(req.target());
  if (path.starts_with("/v1/")) {
    path.remove_prefix(3);
  }
  batch::ApiAnswer a = co_await batch::handle_batch_api(state_.batch.get(), path, *key, req);
  http::Response r{static_cast<bhttp::status>(a.status), 11};
  r.set(bhttp::field::content_type, a.content_type);
  if (!a.allow.empty()) {
    r.set(bhttp::field::allow, a.allow);
  }
  r.body() = std::move(a.body);
  co_await res.send(std::move(r));
}

}  // namespace sluice::gateway
