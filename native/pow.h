// Variant table, result codes and the packed record format shared with src/pow/native.ts.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace eg {

// Must match VerifyCode in src/pow/native.ts.
enum VerifyCode : uint8_t {
  kValid = 0,
  kBadInputLength = 1,
  kBadNonceLength = 2,
  kBadOutputLength = 3,
  kIndexOutOfRange = 4,
  kIndexOrder = 5,
  kDuplicateIndex = 6,
  kCollisionFailed = 7,
  kFinalNotZero = 8,
  kUnknownVariant = 9,
};

// Must match NativeVariant in src/pow/native.ts.
enum Variant : int {
  kBeamHashI = 1,    // Equihash(150,5) R0, Beam construction
  kBeamHashII = 2,   // Equihash(150,5) R3
  kBeamHashIII = 3,  // SipHash-2-4 based
  kDevnet = 16,      // Equihash(48,5) R0, Beam construction
};

constexpr size_t kInputBytes = 32;
constexpr size_t kNonceBytes = 8;
constexpr size_t kMaxOutputBytes = 104;
constexpr size_t kRecordStride = 152;
constexpr size_t kResultStride = 33;
// Record offsets (see src/pow/native.ts).
constexpr size_t kRecVariant = 0, kRecOutLen = 2, kRecInput = 4, kRecNonce = 36, kRecOutput = 44;

// BLAKE2b parameter-block state with Beam's personalisation "Beam-PoW" ‖ le32(a) ‖ le32(b)
// ((N, K) for Equihash, (448, 5) for BeamHash III).
void beamPowState(uint64_t h[8], size_t outLen, uint32_t a, uint32_t b);

// Solution size in bytes, 0 for an unknown variant.
size_t solutionBytes(int variant);

// Full check of one solution: lengths, then the PoW (not the target).
uint8_t verifySolution(int variant, const uint8_t* input, size_t inputLen, const uint8_t* nonce,
                       size_t nonceLen, const uint8_t* output, size_t outputLen);

// Writes code + SHA-256(output) (the hash is zero when the lengths or variant are wrong).
void verifyOneToResult(int variant, const uint8_t* input, size_t inputLen, const uint8_t* nonce,
                       size_t nonceLen, const uint8_t* output, size_t outputLen,
                       uint8_t result[kResultStride]);

// Verifies `count` packed records into `count` result records. No allocation.
void verifyRecords(const uint8_t* records, size_t count, uint8_t* results);

// Whether solve() supports this variant (small-N Equihash only).
bool canSolve(int variant);

// All solutions (each solutionBytes(variant) long) for input ‖ nonce, each accepted by verifySolution.
std::vector<std::vector<uint8_t>> solve(int variant, const uint8_t input[kInputBytes],
                                        const uint8_t nonce[kNonceBytes]);

}  // namespace eg
