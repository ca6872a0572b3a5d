#include "state/redis/scripts.h"

#include <openssl/sha.h>

namespace sluice::state::redis {

namespace {

// Redis time in microseconds.
#define SLUICE_LUA_NOW_US "local t = redis.call('TIME')\nlocal now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"
#define SLUICE_LUA_NOW_MS "local t = redis.call('TIME')\nlocal now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"

constexpr std::string_view kGcraTake = SLUICE_LUA_NOW_US R"lua(
local em = tonumber(ARGV[1])
local cap = tonumber(ARGV[2])
local need = tonumber(ARGV[3])
local want = tonumber(ARGV[4])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local base = math.max(tat, now)
local fits = math.floor((now + cap - base) / em + 1e-6)
if fits < 0 then fits = 0 end
if fits < need then
  return {0, fits, base - now, math.ceil(base - now + need * em - cap)}
end
local g = math.min(want, fits)
local nt = base + g * em
redis.call('SET', KEYS[1], string.format('%.0f', nt), 'PX', math.ceil((nt - now) / 1000) + 1000)
return {g, fits - g, math.floor(nt - now), 0}
)lua";

constexpr std::string_view kGcraAdjust = SLUICE_LUA_NOW_US R"lua(
local em = tonumber(ARGV[1])
local u = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local nt
if u < 0 then
  nt = math.max(tat, now) - u * em
else
  if tat <= now then return 0 end
  nt = math.max(now, tat - u * em)
end
if nt <= now then
  redis.call('DEL', KEYS[1])
  return 0
end
redis.call('SET', KEYS[1], string.format('%.0f', nt), 'PX', math.ceil((nt - now) / 1000) + 1000)
return 1
)lua";

// Live allotments: fields a:<replica> (amount) and e:<replica> (expiry, Redis ms). Dead ones are removed.
#define SLUICE_LUA_ALLOTMENTS                                             \
  "local function allotments(key, me, now)\n"                             \
  "  local h = redis.call('HGETALL', key)\n"                              \
  "  local v = {}\n"                                                      \
  "  for i = 1, #h, 2 do v[h[i]] = h[i + 1] end\n"                        \
  "  local others = 0\n"                                                  \
  "  for f, amount in pairs(v) do\n"                                      \
  "    if string.sub(f, 1, 2) == 'a:' then\n"                             \
  "      local id = string.sub(f, 3)\n"                                   \
  "      if tonumber(v['e:' .. id] or '0') < now then\n"                  \
  "        redis.call('HDEL', key, f, 'e:' .. id)\n"                      \
  "      elseif id ~= me then\n"                                          \
  "        others = others + tonumber(amount)\n"                          \
  "      end\n"                                                           \
  "    end\n"                                                             \
  "  end\n"                                                               \
  "  return others, tonumber(v['spent'] or '0')\n"                        \
  "end\n"

constexpr std::string_view kSlots = SLUICE_LUA_NOW_MS SLUICE_LUA_ALLOTMENTS R"lua(
local me = ARGV[1]
local want = tonumber(ARGV[2])
local floor = tonumber(ARGV[3])
local limit = tonumber(ARGV[4])
local ttl = tonumber(ARGV[5])
local others = allotments(KEYS[1], me, now)
local held = want
if limit > 0 then held = math.min(want, math.max(limit - others, 0)) end
held = math.max(held, floor)
redis.call('HSET', KEYS[1], 'a:' .. me, held, 'e:' .. me, string.format('%.0f', now + ttl))
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return {held, others + held}
)lua";

constexpr std::string_view kSpend = SLUICE_LUA_NOW_MS SLUICE_LUA_ALLOTMENTS R"lua(
local me = ARGV[1]
local want = tonumber(ARGV[2])
local need = tonumber(ARGV[3])
local floor = tonumber(ARGV[4])
local add = tonumber(ARGV[5])
local caps = {tonumber(ARGV[6]), tonumber(ARGV[7])}
local ttl = tonumber(ARGV[8])
local keep = {tonumber(ARGV[9]), tonumber(ARGV[10])}
if add > 0 then
  redis.call('HINCRBY', KEYS[1], 'spent', ARGV[5])
  redis.call('HINCRBY', KEYS[2], 'spent', ARGV[5])
end
local out = {0, 0, 0, 0, 0, 0}
local room = nil
for i = 1, 2 do
  local others, spent = allotments(KEYS[i], me, now)
  out[2 + i] = spent
  out[4 + i] = others
  if caps[i] > 0 then
    local r = caps[i] - spent - others
    if room == nil or r < room then room = r end
  end
end
local held = math.max(floor, want)
out[1] = 1
if need > 0 and room ~= nil then
  if room > floor then
    held = math.max(need, math.min(want, room))
  else
    held = floor
    out[1] = 0
  end
end
out[2] = held
for i = 1, 2 do
  redis.call('HSET', KEYS[i], 'a:' .. me, string.format('%.0f', held), 'e:' .. me,
             string.format('%.0f', now + ttl))
  redis.call('EXPIRE', KEYS[i], keep[i])
end
return out
)lua";

constexpr std::string_view kPresence = SLUICE_LUA_NOW_MS R"lua(
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], string.format('%.0f', now), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now - ttl))
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return redis.call('ZCARD', KEYS[1])
)lua";

constexpr std::string_view kPacer = SLUICE_LUA_NOW_MS SLUICE_LUA_ALLOTMENTS R"lua(
local me = ARGV[1]
local ttl = tonumber(ARGV[5])
if ARGV[2] ~= '' and tonumber(ARGV[3]) > tonumber(redis.call('HGET', KEYS[1], 'at') or '0') then
  redis.call('HSET', KEYS[1], 'obs', ARGV[2], 'at', ARGV[3])
end
local others = allotments(KEYS[1], me, now)
redis.call('HSET', KEYS[1], 'a:' .. me, ARGV[4], 'e:' .. me, string.format('%.0f', now + ttl))
redis.call('PEXPIRE', KEYS[1], 86400000)
return {redis.call('HGET', KEYS[1], 'obs') or '', others}
)lua";

constexpr std::string_view kUnlock = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

#undef SLUICE_LUA_NOW_US
#undef SLUICE_LUA_NOW_MS
#undef SLUICE_LUA_ALLOTMENTS

std::string sha1_hex(std::string_view s) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(s.data()), s.size(), digest);
  std::string out;
  out.reserve(2 * SHA_DIGEST_LENGTH);
  for (unsigned char c : digest) {
    out += "0123456789abcdef"[c >> 4];
    out += "0123456789abcdef"[c & 0xf];
  }
  return out;
}
}  // namespace

Scripts::Scripts() : sources_{kGcraTake, kGcraAdjust, kSlots, kSpend, kPresence, kPacer, kUnlock} {
  for (std::size_t i = 0; i < kScriptCount; ++i) {
    shas_[i] = sha1_hex(sources_[i]);
  }
}

Command Scripts::call(Script s, std::initializer_list<std::string_view> keys) const {
  Command c{"EVALSHA", sha(s)};
  c.arg(static_cast<long long>(keys.size()));
  for (auto k : keys) {
    c.arg(k);
  }
  return c;
}

std::vector<Command> Scripts::load_commands() const {
  std::vector<Command> out;
  for (auto src : sources_) {
    out.push_back(Command{"SCRIPT", "LOAD", src});
  }
  return out;
}

bool Scripts::to_eval(Command& cmd) const {
  if (cmd.args.size() < 2 || cmd.args[0] != "EVALSHA") {
    return false;
  }
  for (std::size_t i = 0; i < kScriptCount; ++i) {
    if (cmd.args[1] == shas_[i]) {
      cmd.args[0] = "EVAL";
      cmd.args[1] = std::string(sources_[i]);
      return true;
    }
  }
  return false;
}

const Scripts& scripts() {
  static const Scripts kScripts;
  return kScripts;
}

}  // namespace sluice::state::redis
