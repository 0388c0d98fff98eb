// SipHash-2-4 (Aumasson & Bernstein, 2012). Two entry points:
//  - sipHash24: the standard keyed PRF over a byte string (checked against the paper's vectors);
//  - sipHash24Raw: the form BeamHash III uses — the four state words are given directly (no key
//    constants), one 8-byte message word, and no length block before finalisation.
#pragma once
#include <cstddef>
#include <cstdint>

#include "blake2b.h"

namespace eg {

struct SipState {
  uint64_t v0, v1, v2, v3;
};

inline void sipRound(SipState& s) {
  s.v0 += s.v1;
  s.v2 += s.v3;
  s.v1 = rotl64(s.v1, 13);
  s.v3 = rotl64(s.v3, 16);
  s.v1 ^= s.v0;
  s.v3 ^= s.v2;
  s.v0 = rotl64(s.v0, 32);
  s.v2 += s.v1;
  s.v0 += s.v3;
  s.v1 = rotl64(s.v1, 17);
  s.v3 = rotl64(s.v3, 21);
  s.v1 ^= s.v2;
  s.v3 ^= s.v0;
  s.v2 = rotl64(s.v2, 32);
}

inline void sipCompress(SipState& s, uint64_t m) {
  s.v3 ^= m;
  sipRound(s);
  sipRound(s);
  s.v0 ^= m;
}

inline uint64_t sipFinish(SipState& s) {
  s.v2 ^= 0xff;
  sipRound(s);
  sipRound(s);
  sipRound(s);
  sipRound(s);
  return s.v0 ^ s.v1 ^ s.v2 ^ s.v3;
}

inline uint64_t sipHash24Raw(const uint64_t key[4], uint64_t m) {
  SipState s{key[0], key[1], key[2], key[3]};
  sipCompress(s, m);
  return sipFinish(s);
}

inline uint64_t sipHash24(uint64_t k0, uint64_t k1, const uint8_t* data, size_t len) {
  SipState s{k0 ^ 0x736f6d6570736575ULL, k1 ^ 0x646f72616e646f6dULL, k0 ^ 0x6c7967656e657261ULL,
             k1 ^ 0x7465646279746573ULL};
  size_t full = len / 8;
  for (size_t i = 0; i < full; i++) sipCompress(s, load64le(data + 8 * i));
  // Last block: remaining bytes little-endian, message length mod 256 in the top byte.
  uint64_t last = uint64_t(len & 0xff) << 56;
  for (size_t i = 0; i < (len & 7); i++) last |= uint64_t(data[8 * full + i]) << (8 * i);
  sipCompress(s, last);
  return sipFinish(s);
}

}  // namespace eg
