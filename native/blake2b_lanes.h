// Many one-block BLAKE2b hashes at once, for Equihash leaf generation: every message is
// prefix(40 bytes: m[0..4]) ‖ le32(g) ‖ zeros, 44 bytes, final block; only g differs. The SIMD
// versions (AVX-512F: 8 lanes, AVX2: 4 lanes) are chosen at run time from the CPU's features, so
// the build needs no -march flag; the portable scalar path is the fallback and the reference.
#pragma once
#include <cstddef>
#include <cstdint>

namespace eg {

// out[i] = chaining value after compressing block(m[0..4], g[i]) from h0 with t = 44, final.
// count may be anything; the lane width is handled inside.
void blake2bIndexHashes(const uint64_t h0[8], const uint64_t m[5], const uint32_t* g, size_t count,
                        uint64_t (*out)[8]);

enum class LanesPath { kScalar = 0, kAvx2 = 1, kAvx512 = 2 };

// Same through a given path (for the harness, which compares them); false if this CPU or build
// cannot run it.
bool blake2bIndexHashesVia(LanesPath path, const uint64_t h0[8], const uint64_t m[5], const uint32_t* g,
                           size_t count, uint64_t (*out)[8]);

// Name of the path blake2bIndexHashes uses on this CPU ("avx512", "avx2" or "scalar").
const char* blake2bLanesPath();

}  // namespace eg
