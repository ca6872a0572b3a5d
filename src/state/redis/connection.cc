#include "state/redis/connection.h"

#include <array>
#include <boost/asio/append.hpp>

namespace sluice::state::redis {

namespace {
error_code protocol_error() { return make_error_code(boost::system::errc::protocol_error); }
error_code timed_out() { return make_error_code(boost::system::errc::timed_out); }
error_code refused_by_redis() { return make_error_code(boost::system::errc::permission_denied); }
}  // namespace

Connection::Connection(net::any_io_executor ex) : ex_(ex), socket_(ex), timer_(ex) {}

Connection::~Connection() {
  error_code ignored;
  socket_.close(ignored);
}

void Connection::connect(ConnectOptions opts, std::function<void(error_code, Replies)> done) {
  state_ = State::kConnecting;
  net::co_spawn(ex_, run_connect(std::move(opts), std::move(done)), net::detached);
}

net::awaitable<void> Connection::run_connect(ConnectOptions opts, std::function<void(error_code, Replies)> done) {
  auto self = shared_from_this();
  const auto deadline = Clock::now() + opts.connect_timeout;
  // One deadline for the whole connect: closing the socket cancels whatever step is running.
  net::steady_timer limit(ex_, deadline);
  limit.async_wait([weak = weak_from_this()](error_code ec) {
    if (auto c = weak.lock(); c && !ec && c->state_ == State::kConnecting) {
      error_code ignored;
      c->socket_.close(ignored);
    }
  });
  auto fail = [&](error_code ec) {
    limit.cancel();
    close(ec);
    done(ec, {});
  };
  tcp::resolver resolver(ex_);
  auto [rec, endpoints] = co_await resolver.async_resolve(opts.host, std::to_string(opts.port), use_tuple);
  if (rec || state_ != State::kConnecting) {
    fail(rec ? rec : timed_out());
    co_return;
  }
  auto [cec, ep] = co_await net::async_connect(socket_, endpoints, use_tuple);
  if (cec || state_ != State::kConnecting) {
    fail(Clock::now() >= deadline ? timed_out() : cec);
    co_return;
  }
  error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  if (opts.tls != nullptr) {
    tls_.emplace(socket_, *opts.tls);
    const std::string& name = opts.server_name.empty() ? opts.host : opts.server_name;
    SSL_set_tlsext_host_name(tls_->native_handle(), name.c_str());
    if (opts.verify) {
      tls_->set_verify_callback(ssl::host_name_verification(name));
    }
    auto [hec] = co_await tls_->async_handshake(ssl::stream_base::client, use_tuple);
    if (hec || state_ != State::kConnecting) {
      fail(Clock::now() >= deadline ? timed_out() : hec);
      co_return;
    }
  }
  std::string bytes;
  std::size_t count = 0;
  if (!opts.password.empty()) {
    Command auth{"AUTH"};
    if (!opts.username.empty()) {
      auth.arg(opts.username);
    }
    append_command(bytes, auth.arg(opts.password));
    ++count;
  }
  if (opts.database != 0) {
    append_command(bytes, Command{"SELECT"}.arg(static_cast<long long>(opts.database)));
    ++count;
  }
  for (const Command& c : opts.setup) {
    append_command(bytes, c);
    ++count;
  }
  net::co_spawn(ex_, read_loop(), net::detached);
  net::co_spawn(ex_, watchdog(), net::detached);
  Replies replies;
  if (count > 0) {
    auto [eec, r] = co_await async_exec(std::move(bytes), count, deadline, use_tuple);
    if (eec) {
      fail(eec);
      co_return;
    }
    for (const Reply& reply : r) {
      if (reply.is_error()) {
        fail(refused_by_redis());  // wrong password, unknown database, a script Redis refused
        co_return;
      }
    }
    replies = std::move(r);
  }
  limit.cancel();
  if (state_ != State::kConnecting) {
    done(timed_out(), {});
    co_return;
  }
  state_ = State::kReady;
  // The setup replies (script hashes) for the caller, without the AUTH/SELECT ones.
  const std::size_t skip = replies.size() - opts.setup.size();
  done({}, Replies(std::make_move_iterator(replies.begin() + static_cast<std::ptrdiff_t>(skip)),
                   std::make_move_iterator(replies.end())));
}

void Connection::exec(std::string bytes, std::size_t count, Clock::time_point deadline, ExecHandler done) {
  if (state_ != State::kReady && state_ != State::kConnecting) {
    complete(std::move(done), make_error_code(boost::system::errc::not_connected), {});
    return;
  }
  enqueue(std::move(bytes), count, deadline, std::move(done));
}

void Connection::enqueue(std::string bytes, std::size_t count, Clock::time_point deadline, ExecHandler done) {
  const bool was_empty = pending_.empty();
  pending_.push_back(Pending{count, {}, std::move(done), deadline});
  pending_.back().replies.reserve(count);
  out_ += bytes;
  if (was_empty) {
    timer_.cancel();  // the watchdog re-arms for this deadline
  }
  if (!writing_) {
    writing_ = true;
    net::co_spawn(ex_, write_loop(), net::detached);
  }
}

net::awaitable<void> Connection::write_loop() {
  auto self = shared_from_this();
  std::string chunk;
  while (!out_.empty() && state_ != State::kClosed) {
    chunk.clear();
    chunk.swap(out_);
    auto [ec, n] = tls_ ? co_await net::async_write(*tls_, net::buffer(chunk), use_tuple)
                        : co_await net::async_write(socket_, net::buffer(chunk), use_tuple);
    if (ec) {
      close(ec);
      break;
    }
  }
  writing_ = false;
}

net::awaitable<void> Connection::read_loop() {
  auto self = shared_from_this();
  std::array<char, 16 * 1024> buf;
  while (state_ != State::kClosed) {
    auto [ec, n] = tls_ ? co_await tls_->async_read_some(net::buffer(buf), use_tuple)
                        : co_await socket_.async_read_some(net::buffer(buf), use_tuple);
    if (ec) {
      close(ec);
      co_return;
    }
    if (!parser_.feed({buf.data(), n})) {
      close(protocol_error());
      co_return;
    }
    for (;;) {
      bool bad = false;
      std::optional<Reply> r = parser_.next(bad);
      if (bad || (r && pending_.empty() && !on_push_)) {
        close(protocol_error());  // garbage, or a reply nobody asked for
        co_return;
      }
      if (!r) {
        break;
      }
      if (pending_.empty()) {
        on_push_(std::move(*r));
        continue;
      }
      deliver(std::move(*r));
    }
  }
}

void Connection::deliver(Reply r) {
  Pending& p = pending_.front();
  p.replies.push_back(std::move(r));
  if (p.replies.size() == p.count) {
    Pending done = std::move(p);
    pending_.pop_front();
    if (done.done) {
      complete(std::move(done.done), {}, std::move(done.replies));
    }
  }
}

net::awaitable<void> Connection::watchdog() {
  auto self = shared_from_this();
  while (state_ != State::kClosed) {
    timer_.expires_at(pending_.empty() ? Clock::time_point::max() : pending_.front().deadline);
    co_await timer_.async_wait(use_tuple);
    if (state_ == State::kClosed) {
      co_return;
    }
    if (!pending_.empty() && pending_.front().deadline <= Clock::now()) {
      close(timed_out());
      co_return;
    }
  }
}

void Connection::complete(ExecHandler h, error_code ec, Replies r) {
  if (!h) {
    return;
  }
  // The handler's own executor runs it (post dispatches through it); never inside the caller's stack.
  net::post(ex_, net::append(std::move(h), ec, std::move(r)));
}

void Connection::close(error_code why) {
  if (state_ == State::kClosed) {
    return;
  }
  state_ = State::kClosed;
  error_code ignored;
  socket_.close(ignored);
  timer_.cancel();
  auto pending = std::move(pending_);
  pending_.clear();
  out_.clear();
  for (auto& p : pending) {
    complete(std::move(p.done), why, {});
  }
  if (auto f = std::move(on_close_)) {
    f(why);
  }
}

}  // namespace sluice::state::redis
