#pragma once
// RESP (the Redis protocol) through hiredis: commands encoded with redisFormatCommandArgv, replies parsed with
// hiredis's reader from bytes we read ourselves (no blocking hiredis I/O), as plain values.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::state::redis {

struct Reply {
  enum class Type : std::uint8_t { kNil, kString, kStatus, kInteger, kError, kArray };
  Type type = Type::kNil;
  std::string str;  // string, status or error text
  long long integer = 0;
  std::vector<Reply> elements;

  bool is_error() const { return type == Type::kError; }
  bool is_nil() const { return type == Type::kNil; }
  // An integer reply, or a string holding one (Lua returns numbers as integers; GET returns strings).
  std::optional<long long> as_int() const;
  // Element i of an array reply as an integer (0 when absent or not a number).
  long long at(std::size_t i) const;
};

// One command, its arguments as given (binary-safe).
struct Command {
  std::vector<std::string> args;
  Command() = default;
  Command(std::initializer_list<std::string_view> a) {
    for (auto s : a) {
      args.emplace_back(s);
    }
  }
  Command& arg(std::string_view s) {
    args.emplace_back(s);
    return *this;
  }
  Command& arg(long long n) {
    args.push_back(std::to_string(n));
    return *this;
  }
};

// A batch of one (GCC 12 mishandles braced vectors built in coroutine argument lists).
inline std::vector<Command> one(Command c) {
  std::vector<Command> v;
  v.push_back(std::move(c));
  return v;
}

// Appends the RESP encoding of `cmd` to `out`.
void append_command(std::string& out, const Command& cmd);

// Incremental reply parser (a hiredis redisReader).
class Parser {
 public:
  Parser();
  ~Parser();
  Parser(const Parser&) = delete;
  Parser& operator=(const Parser&) = delete;
  // False on a protocol error (the connection must be dropped).
  bool feed(std::string_view bytes);
  // The next complete reply, if any. Sets `error` on a protocol error.
  std::optional<Reply> next(bool& error);

 private:
  struct ReaderDeleter {
    void operator()(void* r) const;
  };
  std::unique_ptr<void, ReaderDeleter> reader_;
};

}  // namespace sluice::state::redis
