#pragma once
// What the fuzz targets share: a check that aborts with a message (libFuzzer then saves the input), and
// feeding a parser the same bytes in pieces.
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace sluice::fuzz {

// Aborts (a crash libFuzzer records) when `ok` is false: a property of the code under test broke.
inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "fuzz property broken: %s\n", what);
    std::abort();
  }
}

// Cut points for feeding `n` bytes in pieces, drawn from `seed` (deterministic per input).
struct Cuts {
  unsigned seed;
  std::size_t next(std::size_t left) {
    seed = seed * 1103515245u + 12345u;
    return left == 0 ? 0 : 1 + (seed >> 8) % left;
  }
};

}  // namespace sluice::fuzz
