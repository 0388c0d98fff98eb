// BeamHash III (BeamMW/beam 3rdparty/crypto/beamHashIII_impl.cpp, read for facts only):
//  - prePow = BLAKE2b-256, personal "Beam-PoW" ‖ le32(448) ‖ le32(5), over
//    input ‖ nonce ‖ output[100..104) (the 4-byte extra nonce), read as 4 LE u64 SipHash states;
//  - 32 indices of 25 bits, little-endian bit order, in output[0..100);
//  - leaf work = 448 bits: 64-bit limb i = SipHash-2-4(prePow, (index << 3) + i), i = 0..6;
//  - 5 rounds: mix both elements (low 64 bits replaced by a rotate-sum over the 512-bit
//    work ‖ index-tree padding), collide on the low 24 bits, require distinct indices and
//    left.first < right.first, then child = ((a ^ b) >> 24) masked to the round's length;
//  - valid iff the last child (24 bits) is zero.
#pragma once
#include <cstdint>

namespace eg {
namespace beamhash3 {

constexpr unsigned kSolutionBytes = 104;

// output must be kSolutionBytes long (checked by the caller).
uint8_t verify(const uint8_t* input, const uint8_t* nonce, const uint8_t* output);

}  // namespace beamhash3
}  // namespace eg
