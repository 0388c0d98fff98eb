#include "pow.h"

#include <cstring>

#include "beamhash3.h"
#include "blake2b.h"
#include "equihash.h"
#include "sha256.h"

namespace eg {

using BeamHashI = EquihashR<150, 5, 0>;
using BeamHashII = EquihashR<150, 5, 3>;
using DevnetHash = EquihashR<48, 5, 0>;

void beamPowState(uint64_t h[8], size_t outLen, uint32_t a, uint32_t b) {
  uint8_t personal[16] = {'B', 'e', 'a', 'm', '-', 'P', 'o', 'W'};
  for (int i = 0; i < 4; i++) {
    personal[8 + i] = uint8_t(a >> (8 * i));
    personal[12 + i] = uint8_t(b >> (8 * i));
  }
  blake2bParamState(h, outLen, personal);
}

size_t solutionBytes(int variant) {
  switch (variant) {
    case kBeamHashI: return BeamHashI::kSolutionBytes;
    case kBeamHashII: return BeamHashII::kSolutionBytes;
    case kBeamHashIII: return beamhash3::kSolutionBytes;
    case kDevnet: return DevnetHash::kSolutionBytes;
    default: return 0;
  }
}

// Lengths first (cheapest, and Beam rejects a wrong-sized solution before hashing).
static uint8_t checkLengths(int variant, size_t inputLen, size_t nonceLen, size_t outputLen) {
  const size_t want = solutionBytes(variant);
  if (want == 0) return kUnknownVariant;
  if (inputLen != kInputBytes) return kBadInputLength;
  if (nonceLen != kNonceBytes) return kBadNonceLength;
  if (outputLen != want) return kBadOutputLength;
  return kValid;
}

static uint8_t verifyChecked(int variant, const uint8_t* input, const uint8_t* nonce, const uint8_t* output) {
  switch (variant) {
    case kBeamHashI: return BeamHashI::verify(input, nonce, output);
    case kBeamHashII: return BeamHashII::verify(input, nonce, output);
    case kBeamHashIII: return beamhash3::verify(input, nonce, output);
    case kDevnet: return DevnetHash::verify(input, nonce, output);
    default: return kUnknownVariant;
  }
}

uint8_t verifySolution(int variant, const uint8_t* input, size_t inputLen, const uint8_t* nonce,
                       size_t nonceLen, const uint8_t* output, size_t outputLen) {
  const uint8_t code = checkLengths(variant, inputLen, nonceLen, outputLen);
  return code != kValid ? code : verifyChecked(variant, input, nonce, output);
}

void verifyOneToResult(int variant, const uint8_t* input, size_t inputLen, const uint8_t* nonce,
                       size_t nonceLen, const uint8_t* output, size_t outputLen,
                       uint8_t result[kResultStride]) {
  uint8_t code = checkLengths(variant, inputLen, nonceLen, outputLen);
  if (code != kValid) {
    result[0] = code;
    std::memset(result + 1, 0, 32);
    return;
  }
  result[0] = verifyChecked(variant, input, nonce, output);
  sha256(output, outputLen, result + 1);
}

void verifyRecords(const uint8_t* records, size_t count, uint8_t* results) {
  for (size_t i = 0; i < count; i++) {
    const uint8_t* rec = records + i * kRecordStride;
    const size_t outLen = size_t(rec[kRecOutLen]) | size_t(rec[kRecOutLen + 1]) << 8;
    // An out-of-bounds length must not read past the record: it fails the length check anyway.
    verifyOneToResult(rec[kRecVariant], rec + kRecInput, kInputBytes, rec + kRecNonce, kNonceBytes,
                      rec + kRecOutput, outLen <= kMaxOutputBytes ? outLen : kMaxOutputBytes + 1,
                      results + i * kResultStride);
  }
}

bool canSolve(int variant) { return variant == kDevnet; }

std::vector<std::vector<uint8_t>> solve(int variant, const uint8_t input[kInputBytes],
                                        const uint8_t nonce[kNonceBytes]) {
  if (variant == kDevnet) return DevnetHash::solve(input, nonce);
  return {};
}

}  // namespace eg
