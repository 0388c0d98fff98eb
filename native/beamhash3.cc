#include "beamhash3.h"

#include <cstring>

#include "blake2b.h"
#include "pow.h"
#include "siphash.h"

namespace eg {
namespace beamhash3 {
namespace {

constexpr unsigned kWorkBits = 448;
constexpr unsigned kCollisionBits = 24;
constexpr unsigned kRounds = 5;
constexpr unsigned kIndexBits = 25;
constexpr unsigned kLeaves = 32;
constexpr uint64_t kCollisionMask = (uint64_t(1) << kCollisionBits) - 1;

struct Base {
  uint64_t h[8];
  Base() { beamPowState(h, 32, kWorkBits, kRounds); }
};
const Base kBase;

// Work bits of one tree node: limbs[0] is least significant; limb 7 stays zero (448 bits).
struct Node {
  uint64_t limbs[8];
};

// Rotation amounts of the mix: (29 · (i + 1)) mod 64 for limb i.
constexpr unsigned kMixRot[8] = {29, 58, 23, 52, 17, 46, 11, 40};

// Beam's applyMix: OR the node's index list (25-bit slots from bit remLen, at most
// ⌊(512 − remLen + 24) / 25⌋ of them, cut at bit 512) above the work bits, sum the eight
// rotated 64-bit limbs, rotate by 24 and store it as the low limb.
inline void applyMix(Node& n, unsigned remLen, const uint32_t* idx, unsigned count) {
  uint64_t t[8];
  std::memcpy(t, n.limbs, sizeof t);
  unsigned pad = (512 - remLen + kCollisionBits) / (kCollisionBits + 1);
  if (pad > count) pad = count;
  for (unsigned i = 0; i < pad; i++) {
    const unsigned pos = remLen + i * (kCollisionBits + 1);
    const uint64_t v = idx[i];
    const unsigned limb = pos / 64, sh = pos % 64;
    t[limb] |= v << sh;
    if (sh > 64 - kIndexBits && limb < 7) t[limb + 1] |= v >> (64 - sh);
  }
  uint64_t sum = 0;
  for (unsigned i = 0; i < 8; i++) sum += rotl64(t[i], kMixRot[i]);
  n.limbs[0] = rotl64(sum, 24);
}

// child = ((a ^ b) >> 24) keeping remLen bits.
inline void merge(Node& out, const Node& a, const Node& b, unsigned remLen) {
  uint64_t x[7];
  for (unsigned i = 0; i < 7; i++) x[i] = a.limbs[i] ^ b.limbs[i];
  for (unsigned i = 0; i < 6; i++) out.limbs[i] = x[i] >> kCollisionBits | x[i + 1] << (64 - kCollisionBits);
  out.limbs[6] = x[6] >> kCollisionBits;
  out.limbs[7] = 0;
  for (unsigned i = 0; i < 7; i++) {
    const unsigned lo = 64 * i;
    if (remLen <= lo) out.limbs[i] = 0;
    else if (remLen < lo + 64) out.limbs[i] &= (uint64_t(1) << (remLen - lo)) - 1;
  }
}

}  // namespace

uint8_t verify(const uint8_t* input, const uint8_t* nonce, const uint8_t* output) {
  // prePow: one BLAKE2b block of 44 bytes.
  uint64_t m[16] = {0};
  for (int i = 0; i < 4; i++) m[i] = load64le(input + 8 * i);
  m[4] = load64le(nonce);
  m[5] = load32le(output + 100);
  uint64_t key[8];
  std::memcpy(key, kBase.h, sizeof key);
  blake2bCompress(key, m, 44, 0, true);

  // 32 × 25-bit indices, little-endian bit order over output[0..100).
  uint32_t idx[kLeaves];
  for (unsigned j = 0; j < kLeaves; j++) {
    const unsigned pos = j * kIndexBits;
    uint64_t w = 0;
    for (unsigned b = 0; b < 5 && pos / 8 + b < 100; b++) w |= uint64_t(output[pos / 8 + b]) << (8 * b);
    idx[j] = uint32_t(w >> (pos % 8)) & ((1u << kIndexBits) - 1);
  }

  Node nodes[kLeaves];
  for (unsigned j = 0; j < kLeaves; j++) {
    const uint64_t seed = uint64_t(idx[j]) << 3;
    for (unsigned i = 0; i < 7; i++) nodes[j].limbs[i] = sipHash24Raw(key, seed + i);
    nodes[j].limbs[7] = 0;
  }

  // Node for subtree [left, left + size) lives at nodes[left]; its index list is idx[left..],
  // in solution order because the order check runs before every merge.
  for (unsigned round = 1; round <= kRounds; round++) {
    const unsigned size = 1u << (round - 1);
    unsigned mixLen = kWorkBits - (round - 1) * kCollisionBits;
    if (round == 5) mixLen -= 64;
    unsigned outLen = kWorkBits - round * kCollisionBits;
    if (round == 4) outLen -= 64;
    if (round == 5) outLen = kCollisionBits;
    for (unsigned left = 0; left < kLeaves; left += 2 * size) {
      const unsigned right = left + size;
      applyMix(nodes[left], mixLen, idx + left, size);
      applyMix(nodes[right], mixLen, idx + right, size);
      if ((nodes[left].limbs[0] & kCollisionMask) != (nodes[right].limbs[0] & kCollisionMask))
        return kCollisionFailed;
      for (unsigned a = left; a < right; a++)
        for (unsigned b = right; b < right + size; b++)
          if (idx[a] == idx[b]) return kDuplicateIndex;
      if (!(idx[left] < idx[right])) return kIndexOrder;
      merge(nodes[left], nodes[left], nodes[right], outLen);
    }
  }
  for (unsigned i = 0; i < 8; i++)
    if (nodes[0].limbs[i]) return kFinalNotZero;
  return kValid;
}

}  // namespace beamhash3
}  // namespace eg
