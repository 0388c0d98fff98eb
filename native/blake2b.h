// BLAKE2b (RFC 7693) with the full parameter block: digest length 1..64, key, salt-free,
// 16-byte personalisation. Written from the RFC; the PoW code also uses the raw
// compression function so that one-block messages cost exactly one call.
#pragma once
#include <cstddef>
#include <cstdint>

namespace eg {

constexpr size_t kBlake2bBlock = 128;
constexpr size_t kBlake2bMaxOut = 64;
constexpr size_t kBlake2bPersonal = 16;

extern const uint64_t kBlake2bIV[8];

// Message schedule (RFC 7693 §2.7); rounds 10 and 11 reuse rows 0 and 1.
inline constexpr uint8_t kBlake2bSigma[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3}};

// One compression (RFC 7693 §3.2). m: 16 message words, t: byte counter, last: final block flag.
void blake2bCompress(uint64_t h[8], const uint64_t m[16], uint64_t t0, uint64_t t1, bool last);

// Chaining value after the parameter block (no key): the state every keyless hash starts from.
void blake2bParamState(uint64_t h[8], size_t outLen, const uint8_t* personal16);

class Blake2b {
 public:
  // outLen 1..64, keyLen 0..64, personal16 may be null (all zero). Caller validates ranges.
  Blake2b(size_t outLen, const uint8_t* key = nullptr, size_t keyLen = 0,
          const uint8_t* personal16 = nullptr);
  void update(const uint8_t* data, size_t len);
  void final(uint8_t* out);  // writes outLen bytes

 private:
  uint64_t h_[8];
  uint64_t t0_ = 0, t1_ = 0;
  uint8_t buf_[kBlake2bBlock];
  size_t bufLen_ = 0;
  size_t outLen_;
};

inline uint64_t load64le(const uint8_t* p) {
  return uint64_t(p[0]) | uint64_t(p[1]) << 8 | uint64_t(p[2]) << 16 | uint64_t(p[3]) << 24 |
         uint64_t(p[4]) << 32 | uint64_t(p[5]) << 40 | uint64_t(p[6]) << 48 | uint64_t(p[7]) << 56;
}
inline uint32_t load32le(const uint8_t* p) {
  return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
}
inline void store64le(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = uint8_t(v >> (8 * i));
}
inline uint64_t rotr64(uint64_t x, unsigned n) { return (x >> n) | (x << ((64 - n) & 63)); }
inline uint64_t rotl64(uint64_t x, unsigned n) { return (x << n) | (x >> ((64 - n) & 63)); }

}  // namespace eg
