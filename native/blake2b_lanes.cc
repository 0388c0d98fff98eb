#include "blake2b_lanes.h"

#include <cstdlib>
#include <cstring>

#include "blake2b.h"

namespace eg {
namespace {

#define ROTR_V(x, n) (((x) >> (n)) | ((x) << (64 - (n))))

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define EG_X86_LANES 1
// Only this file's static functions are compiled for the wider ISAs; the dispatcher below
// calls them only when the CPU reports the features.
#pragma GCC push_options
#pragma GCC target("avx2")
typedef uint64_t V4 __attribute__((vector_size(32)));
typedef uint32_t W8 __attribute__((vector_size(32)));
typedef uint8_t B32 __attribute__((vector_size(32)));
// AVX2 has no 64-bit rotate: byte-multiple rotations are shuffles (vpshufd / vpshufb).
static inline V4 rotr32Avx2(V4 x) { return (V4)__builtin_shuffle((W8)x, (W8){1, 0, 3, 2, 5, 4, 7, 6}); }
static inline V4 rotr24Avx2(V4 x) {
  return (V4)__builtin_shuffle((B32)x, (B32){3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10,
                                             19, 20, 21, 22, 23, 16, 17, 18, 27, 28, 29, 30, 31, 24, 25, 26});
}
static inline V4 rotr16Avx2(V4 x) {
  return (V4)__builtin_shuffle((B32)x, (B32){2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9,
                                             18, 19, 20, 21, 22, 23, 16, 17, 26, 27, 28, 29, 30, 31, 24, 25});
}
#define ROTR32(x) rotr32Avx2(x)
#define ROTR24(x) rotr24Avx2(x)
#define ROTR16(x) rotr16Avx2(x)
#define ROTR63(x) ROTR_V(x, 63)
#define LANES_FN lanesAvx2
#define LANES_VEC V4
#define LANES_N 4
#include "blake2b_lanes.inc"
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f")
typedef uint64_t V8 __attribute__((vector_size(64)));
// AVX-512F has a native 64-bit rotate (vprorq), which GCC selects for this idiom.
#define ROTR32(x) ROTR_V(x, 32)
#define ROTR24(x) ROTR_V(x, 24)
#define ROTR16(x) ROTR_V(x, 16)
#define ROTR63(x) ROTR_V(x, 63)
#define LANES_FN lanesAvx512
#define LANES_VEC V8
#define LANES_N 8
#include "blake2b_lanes.inc"
#pragma GCC pop_options
#endif

using LanesFn = void (*)(const uint64_t*, const uint64_t*, const uint32_t*, size_t, uint64_t (*)[8]);

void lanesScalar(const uint64_t h0[8], const uint64_t m[5], const uint32_t* g, size_t count, uint64_t (*out)[8]) {
  uint64_t mw[16] = {m[0], m[1], m[2], m[3], m[4]};
  for (size_t i = 0; i < count; i++) {
    for (int w = 0; w < 8; w++) out[i][w] = h0[w];
    mw[5] = g[i];
    blake2bCompress(out[i], mw, 44, 0, true);
  }
}

struct Dispatch {
  LanesFn fn = lanesScalar;
  const char* name = "scalar";
  // EQUIGATE_NATIVE_SIMD=avx2 caps the path at AVX2, any other non-empty value but avx512 forces the
  // scalar path (tests of the fallbacks, or a misbehaving CPU); unset or empty: the best available.
  Dispatch() {
#ifdef EG_X86_LANES
    const char* cap = std::getenv("EQUIGATE_NATIVE_SIMD");
    const bool allow512 = !cap || !*cap || std::strcmp(cap, "avx512") == 0;
    const bool allow2 = allow512 || std::strcmp(cap, "avx2") == 0;
    __builtin_cpu_init();
    if (allow512 && __builtin_cpu_supports("avx512f")) {
      fn = lanesAvx512;
      name = "avx512";
    } else if (allow2 && __builtin_cpu_supports("avx2")) {
      fn = lanesAvx2;
      name = "avx2";
    }
#endif
  }
};
const Dispatch& dispatch() {
  static const Dispatch d;
  return d;
}

}  // namespace

void blake2bIndexHashes(const uint64_t h0[8], const uint64_t m[5], const uint32_t* g, size_t count,
                        uint64_t (*out)[8]) {
  dispatch().fn(h0, m, g, count, out);
}

bool blake2bIndexHashesVia(LanesPath path, const uint64_t h0[8], const uint64_t m[5], const uint32_t* g,
                           size_t count, uint64_t (*out)[8]) {
  switch (path) {
    case LanesPath::kScalar:
      lanesScalar(h0, m, g, count, out);
      return true;
#ifdef EG_X86_LANES
    case LanesPath::kAvx2:
      if (!__builtin_cpu_supports("avx2")) return false;
      lanesAvx2(h0, m, g, count, out);
      return true;
    case LanesPath::kAvx512:
      if (!__builtin_cpu_supports("avx512f")) return false;
      lanesAvx512(h0, m, g, count, out);
      return true;
#endif
    default:
      return false;
  }
}

const char* blake2bLanesPath() { return dispatch().name; }

}  // namespace eg
