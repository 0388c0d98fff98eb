#include "blake2b.h"

#include <cstring>

namespace eg {

const uint64_t kBlake2bIV[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL};

namespace {
inline void mixG(uint64_t& a, uint64_t& b, uint64_t& c, uint64_t& d, uint64_t x, uint64_t y) {
  a = a + b + x;
  d = rotr64(d ^ a, 32);
  c = c + d;
  b = rotr64(b ^ c, 24);
  a = a + b + y;
  d = rotr64(d ^ a, 16);
  c = c + d;
  b = rotr64(b ^ c, 63);
}
}  // namespace

void blake2bCompress(uint64_t h[8], const uint64_t m[16], uint64_t t0, uint64_t t1, bool last) {
  uint64_t v[16];
  for (int i = 0; i < 8; i++) {
    v[i] = h[i];
    v[i + 8] = kBlake2bIV[i];
  }
  v[12] ^= t0;
  v[13] ^= t1;
  if (last) v[14] = ~v[14];
#pragma GCC unroll 12
  for (int r = 0; r < 12; r++) {
    const uint8_t* s = kBlake2bSigma[r];
    mixG(v[0], v[4], v[8], v[12], m[s[0]], m[s[1]]);
    mixG(v[1], v[5], v[9], v[13], m[s[2]], m[s[3]]);
    mixG(v[2], v[6], v[10], v[14], m[s[4]], m[s[5]]);
    mixG(v[3], v[7], v[11], v[15], m[s[6]], m[s[7]]);
    mixG(v[0], v[5], v[10], v[15], m[s[8]], m[s[9]]);
    mixG(v[1], v[6], v[11], v[12], m[s[10]], m[s[11]]);
    mixG(v[2], v[7], v[8], v[13], m[s[12]], m[s[13]]);
    mixG(v[3], v[4], v[9], v[14], m[s[14]], m[s[15]]);
  }
  for (int i = 0; i < 8; i++) h[i] ^= v[i] ^ v[i + 8];
}

// Parameter block (RFC 7693 §2.5 / BLAKE2 spec): byte 0 digest length, 1 key length,
// 2 fanout = 1, 3 depth = 1, everything else zero except the personalisation at 48..63.
static void paramState(uint64_t h[8], size_t outLen, size_t keyLen, const uint8_t* personal16) {
  uint8_t p[64] = {0};
  p[0] = uint8_t(outLen);
  p[1] = uint8_t(keyLen);
  p[2] = 1;
  p[3] = 1;
  if (personal16) std::memcpy(p + 48, personal16, kBlake2bPersonal);
  for (int i = 0; i < 8; i++) h[i] = kBlake2bIV[i] ^ load64le(p + 8 * i);
}

void blake2bParamState(uint64_t h[8], size_t outLen, const uint8_t* personal16) {
  paramState(h, outLen, 0, personal16);
}

Blake2b::Blake2b(size_t outLen, const uint8_t* key, size_t keyLen, const uint8_t* personal16)
    : outLen_(outLen) {
  paramState(h_, outLen, keyLen, personal16);
  std::memset(buf_, 0, sizeof buf_);
  if (keyLen > 0) {
    // The key is padded to a full block and absorbed as the first block.
    std::memcpy(buf_, key, keyLen);
    bufLen_ = kBlake2bBlock;
  }
}

void Blake2b::update(const uint8_t* data, size_t len) {
  while (len > 0) {
    // The last block must be compressed with the final flag, so a full buffer is only
    // flushed once more data is known to follow.
    if (bufLen_ == kBlake2bBlock) {
      t0_ += kBlake2bBlock;
      if (t0_ < kBlake2bBlock) t1_++;
      uint64_t m[16];
      for (int i = 0; i < 16; i++) m[i] = load64le(buf_ + 8 * i);
      blake2bCompress(h_, m, t0_, t1_, false);
      bufLen_ = 0;
    }
    size_t take = kBlake2bBlock - bufLen_;
    if (take > len) take = len;
    std::memcpy(buf_ + bufLen_, data, take);
    bufLen_ += take;
    data += take;
    len -= take;
  }
}

void Blake2b::final(uint8_t* out) {
  t0_ += bufLen_;
  if (t0_ < bufLen_) t1_++;
  std::memset(buf_ + bufLen_, 0, kBlake2bBlock - bufLen_);
  uint64_t m[16];
  for (int i = 0; i < 16; i++) m[i] = load64le(buf_ + 8 * i);
  blake2bCompress(h_, m, t0_, t1_, true);
  uint8_t full[64];
  for (int i = 0; i < 8; i++) store64le(full + 8 * i, h_[i]);
  std::memcpy(out, full, outLen_);
}

}  // namespace eg
