#include "state/redis/resp.h"

#include <hiredis/hiredis.h>

#include <charconv>
#include <cstdlib>

namespace sluice::state::redis {

std::optional<long long> Reply::as_int() const {
  if (type == Type::kInteger) {
    return integer;
  }
  if (type == Type::kString || type == Type::kStatus) {
    long long v = 0;
    auto [end, ec] = std::from_chars(str.data(), str.data() + str.size(), v);
    if (ec == std::errc() && end == str.data() + str.size()) {
      return v;
    }
  }
  return std::nullopt;
}

long long Reply::at(std::size_t i) const {
  if (type != Type::kArray || i >= elements.size()) {
    return 0;
  }
  return elements[i].as_int().value_or(0);
}

void append_command(std::string& out, const Command& cmd) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lens;
  argv.reserve(cmd.args.size());
  lens.reserve(cmd.args.size());
  for (const auto& a : cmd.args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  char* encoded = nullptr;
  const int n = redisFormatCommandArgv(&encoded, static_cast<int>(argv.size()), argv.data(), lens.data());
  if (n > 0 && encoded != nullptr) {
    out.append(encoded, static_cast<std::size_t>(n));
  }
  redisFreeCommand(encoded);
}

namespace {
Reply convert_reply(const redisReply* r) {
  Reply out;
  switch (r->type) {
    case REDIS_REPLY_STRING:
      out.type = Reply::Type::kString;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = Reply::Type::kStatus;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = Reply::Type::kError;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_INTEGER:
      out.type = Reply::Type::kInteger;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_ARRAY:
      out.type = Reply::Type::kArray;
      out.elements.reserve(r->elements);
      for (std::size_t i = 0; i < r->elements; ++i) {
        out.elements.push_back(convert_reply(r->element[i]));
      }
      break;
    default:
      out.type = Reply::Type::kNil;
      break;
  }
  return out;
}
}  // namespace

void Parser::ReaderDeleter::operator()(void* r) const { redisReaderFree(static_cast<redisReader*>(r)); }

Parser::Parser() : reader_(redisReaderCreate()) {}
Parser::~Parser() = default;

bool Parser::feed(std::string_view bytes) {
  return redisReaderFeed(static_cast<redisReader*>(reader_.get()), bytes.data(), bytes.size()) == REDIS_OK;
}

std::optional<Reply> Parser::next(bool& error) {
  void* raw = nullptr;
  if (redisReaderGetReply(static_cast<redisReader*>(reader_.get()), &raw) != REDIS_OK) {
    error = true;
    return std::nullopt;
  }
  if (raw == nullptr) {
    return std::nullopt;
  }
  Reply out = convert_reply(static_cast<redisReply*>(raw));
  freeReplyObject(raw);
  return out;
}

}  // namespace sluice::state::redis
