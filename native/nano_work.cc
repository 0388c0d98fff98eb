#include "nano_work.h"

#include "blake2b.h"

namespace eg {

namespace {

// The whole message (8 + 32 = 40 bytes) fits one block, so every nonce costs exactly one compression
// from the keyless 8-byte-digest parameter state; only message word 0 changes between nonces.
struct NanoWorkState {
  uint64_t h0[8];
  uint64_t m[16] = {};
  explicit NanoWorkState(const uint8_t root[32]) {
    blake2bParamState(h0, 8, nullptr);
    for (int i = 0; i < 4; i++) m[1 + i] = load64le(root + 8 * i);
  }
  uint64_t value(uint64_t nonce) {
    m[0] = nonce;
    uint64_t h[8];
    for (int i = 0; i < 8; i++) h[i] = h0[i];
    blake2bCompress(h, m, 40, 0, true);
    // The 8-byte digest is h[0] stored little-endian; read back little-endian it is h[0] itself.
    return h[0];
  }
};

}  // namespace

uint64_t nanoWorkValue(const uint8_t root[32], uint64_t nonce) {
  NanoWorkState s(root);
  return s.value(nonce);
}

bool nanoWorkSearch(const uint8_t root[32], uint64_t threshold, uint64_t start, uint64_t iterations,
                    uint64_t* found, uint64_t* value) {
  NanoWorkState s(root);
  uint64_t nonce = start;
  for (uint64_t i = 0; i < iterations; i++, nonce++) {
    const uint64_t v = s.value(nonce);
    if (v >= threshold) {
      *found = nonce;
      *value = v;
      return true;
    }
  }
  return false;
}

}  // namespace eg
