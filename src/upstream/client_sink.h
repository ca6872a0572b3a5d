#pragma once
// Where an upstream attempt's answer goes: the client's writer (gateway/writer.h) for a proxied request, or a
// buffer for an in-process caller (a batch line). The relay decides what to send; the sink owns how.
#include <string>

#include "http/asio.h"

namespace sluice::upstream {

class ClientSink {
 public:
  virtual ~ClientSink() = default;
  // A 200 event stream begins: its head goes out with the first chunk.
  virtual void start_stream() = 0;
  // false when the client is gone. `last`: the stream's terminator goes with this chunk.
  virtual net::awaitable<bool> send_chunk(net::const_buffer data, bool last) = 0;
  virtual net::awaitable<bool> finish_stream() = 0;
  // A complete 200 JSON answer in one piece: true when the socket took all of it (or the client is gone:
  // check broken()); false when send_body_rest(body) must write the rest. `body` lives until then.
  virtual bool send_body_now(const std::string& body) = 0;
  virtual net::awaitable<bool> send_body_rest(const std::string& body) = 0;
  virtual bool broken() const = 0;
  // The whole answer is out: a client that closes from now on did not leave early.
  virtual void answered() = 0;
};

}  // namespace sluice::upstream
