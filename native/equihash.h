// Equihash(N, K) with Beam's changes ("EquihashR", pow/equihashR in BeamMW/beam):
//  - BLAKE2b personalised with "Beam-PoW" ‖ le32(N) ‖ le32(K), digest (512/N)·⌈N/8⌉ bytes,
//    fed input ‖ nonce ‖ le32(g);
//  - the hash for group g is the word-wise (u32 LE) sum of the digests for g' = (g & ~15) .. g;
//  - in each ⌈N/8⌉-byte slice the unused low bits of the last byte are cleared and, for R > 0,
//    the top 2R bits of the first byte (so the first collision word is narrower);
//  - indices are (N/(K+1)+1)-bit big-endian packed and must be < 2^(N/(K+1)+1-R).
// Checks run in Beam's order so the reason code matches its first failure:
// per merge collision, then index order (lexicographic), then distinct indices; finally zero.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <set>
#include <vector>

#include "blake2b.h"
#include "blake2b_lanes.h"
#include "pow.h"

namespace eg {

// Reads `nbits` (<= 32) bits at bit offset `pos` of a big-endian bit stream.
inline uint32_t readBitsBE(const uint8_t* p, size_t pos, unsigned nbits) {
  uint64_t acc = 0;
  size_t first = pos / 8, last = (pos + nbits - 1) / 8;
  for (size_t i = first; i <= last; i++) acc = acc << 8 | p[i];
  unsigned tail = unsigned((last + 1) * 8 - (pos + nbits));
  return uint32_t((acc >> tail) & ((uint64_t(1) << nbits) - 1));
}

template <unsigned N, unsigned K, unsigned R>
struct EquihashR {
  static constexpr unsigned kIndicesPerHash = 512 / N;
  static constexpr unsigned kSliceBytes = (N + 7) / 8;
  static constexpr unsigned kHashBytes = kIndicesPerHash * kSliceBytes;  // BLAKE2b digest length
  static constexpr unsigned kCollisionBits = N / (K + 1);
  static constexpr unsigned kWords = K + 1;
  static constexpr unsigned kIndexBits = kCollisionBits + 1;
  static constexpr unsigned kIndexCount = 1u << K;
  static constexpr unsigned kSolutionBytes = kIndexCount * kIndexBits / 8;
  static constexpr uint32_t kIndexLimit = 1u << (kIndexBits - R);
  static_assert(kHashBytes <= 64 && kIndexBits <= 32 && kCollisionBits <= 32, "unsupported N,K");
  static_assert(kIndexCount * kIndexBits % 8 == 0, "solution must be whole bytes");

  // Personalised parameter-block state, shared by every hash of this variant.
  struct Base {
    uint64_t h[8];
    Base() { beamPowState(h, kHashBytes, N, K); }
  };
  static const Base& base() {
    static const Base b;
    return b;
  }

  // Message words 0..4 of the one 44-byte block input(32) ‖ nonce(8) ‖ le32(g).
  struct Message {
    uint64_t m[5];
    Message(const uint8_t* input, const uint8_t* nonce) {
      for (int i = 0; i < 4; i++) m[i] = load64le(input + 8 * i);
      m[4] = load64le(nonce);
    }
  };

  // acc (16 u32 words) += digest (chaining value h, truncated to kHashBytes, zero-padded to 64 B).
  static void addDigest(const uint64_t h[8], uint32_t acc[16]) {
    for (unsigned w = 0; w < 16; w++) {
      const unsigned byte0 = 4 * w;
      if (byte0 >= kHashBytes) break;
      uint32_t v = uint32_t(h[w / 2] >> (32 * (w % 2)));
      if (byte0 + 4 > kHashBytes) v &= (uint32_t(1) << (8 * (kHashBytes - byte0))) - 1;
      acc[w] += v;
    }
  }

  // Adds the digests of groups g in [from, to] (to - from < 16) into acc.
  static void addDigests(const Message& msg, uint32_t from, uint32_t to, uint32_t acc[16]) {
    uint32_t gs[16];
    uint64_t out[16][8];
    const unsigned n = to - from + 1;
    for (unsigned k = 0; k < n; k++) gs[k] = from + k;
    blake2bIndexHashes(base().h, msg.m, gs, n, out);
    for (unsigned k = 0; k < n; k++) addDigest(out[k], acc);
  }

  // Collision words of index i from the summed digest of its group.
  static void wordsFromSum(const uint32_t acc[16], uint32_t i, uint32_t words[kWords]) {
    uint8_t slice[kSliceBytes + 4] = {0};
    const unsigned off = (i % kIndicesPerHash) * kSliceBytes;
    for (unsigned b = 0; b < kSliceBytes; b++) {
      unsigned pos = off + b;
      slice[b] = uint8_t(acc[pos / 4] >> (8 * (pos % 4)));
    }
    if (N % 8) slice[kSliceBytes - 1] &= uint8_t(0xff << (8 - N % 8));
    if (R) slice[0] &= uint8_t(0xff >> (2 * R));
    for (unsigned w = 0; w < kWords; w++) words[w] = readBitsBE(slice, w * kCollisionBits, kCollisionBits);
  }

  // Decodes the packed indices; returns false if any is out of range.
  static bool decode(const uint8_t* sol, uint32_t idx[kIndexCount]) {
    bool ok = true;
    for (unsigned j = 0; j < kIndexCount; j++) {
      idx[j] = readBitsBE(sol, j * kIndexBits, kIndexBits);
      if (idx[j] >= kIndexLimit) ok = false;
    }
    return ok;
  }

  // Tree checks on the leaves' words, in Beam's order. words: kIndexCount × kWords.
  static uint8_t checkTree(const uint32_t idx[kIndexCount], uint32_t words[kIndexCount][kWords]) {
    for (unsigned r = 0; r < K; r++) {
      const unsigned size = 1u << r;
      for (unsigned left = 0; left < kIndexCount; left += 2 * size) {
        const unsigned right = left + size;
        // words[left] holds the XOR over its subtree (merged in place below).
        if (words[left][r] != words[right][r]) return kCollisionFailed;
        for (unsigned p = 0; p < size; p++) {
          if (idx[left + p] != idx[right + p]) {
            if (idx[right + p] < idx[left + p]) return kIndexOrder;
            break;
          }
        }
        for (unsigned a = left; a < right; a++)
          for (unsigned b = right; b < right + size; b++)
            if (idx[a] == idx[b]) return kDuplicateIndex;
        for (unsigned w = r; w < kWords; w++) words[left][w] ^= words[right][w];
      }
    }
    return words[0][K] == 0 ? kValid : kFinalNotZero;
  }

  // sol must be kSolutionBytes long (checked by the caller).
  static uint8_t verify(const uint8_t* input, const uint8_t* nonce, const uint8_t* sol) {
    uint32_t idx[kIndexCount];
    if (!decode(sol, idx)) return kIndexOutOfRange;
    const Message msg(input, nonce);
    // Every leaf needs the digests of its whole 16-group prefix (g & ~15 .. g): about 8.5 per
    // leaf, ~272 in all, hashed in chunks so that the SIMD lanes stay full across leaves.
    constexpr unsigned kChunk = 64;
    uint32_t gs[kChunk];
    uint8_t owner[kChunk];
    uint64_t out[kChunk][8];
    uint32_t acc[kIndexCount][16] = {};
    unsigned n = 0;
    auto flush = [&]() {
      blake2bIndexHashes(base().h, msg.m, gs, n, out);
      for (unsigned k = 0; k < n; k++) addDigest(out[k], acc[owner[k]]);
      n = 0;
    };
    for (unsigned j = 0; j < kIndexCount; j++) {
      const uint32_t g = idx[j] / kIndicesPerHash;
      for (uint32_t g2 = g & ~15u; g2 <= g; g2++) {
        gs[n] = g2;
        owner[n] = uint8_t(j);
        if (++n == kChunk) flush();
      }
    }
    if (n) flush();
    uint32_t words[kIndexCount][kWords];
    for (unsigned j = 0; j < kIndexCount; j++) wordsFromSum(acc[j], idx[j], words[j]);
    return checkTree(idx, words);
  }

  static void encode(const uint32_t idx[kIndexCount], uint8_t* sol) {
    std::memset(sol, 0, kSolutionBytes);
    for (unsigned j = 0; j < kIndexCount; j++)
      for (unsigned b = 0; b < kIndexBits; b++)
        if (idx[j] >> (kIndexBits - 1 - b) & 1) {
          size_t pos = size_t(j) * kIndexBits + b;
          sol[pos / 8] |= uint8_t(0x80 >> (pos % 8));
        }
  }

  // Wagner's algorithm over all kIndexLimit leaves; only sensible for small N (devnet).
  // With nearMisses, returns instead the candidates whose last merge collides but whose final
  // word is not zero (for tests of the kFinalNotZero path).
  static std::vector<std::vector<uint8_t>> solve(const uint8_t* input, const uint8_t* nonce,
                                                 bool nearMisses = false) {
    struct Row {
      uint32_t w[kWords];
      std::vector<uint32_t> idx;
    };
    const Message msg(input, nonce);
    std::vector<Row> rows(kIndexLimit);
    uint32_t acc[16];
    for (uint32_t i = 0; i < kIndexLimit; i++) {
      const uint32_t g = i / kIndicesPerHash;
      if (i % kIndicesPerHash == 0) {
        if (g % 16 == 0) std::memset(acc, 0, sizeof acc);
        addDigests(msg, g, g, acc);
      }
      wordsFromSum(acc, i, rows[i].w);
      rows[i].idx.assign(1, i);
    }
    auto distinct = [](const Row& a, const Row& b) {
      for (uint32_t x : a.idx)
        for (uint32_t y : b.idx)
          if (x == y) return false;
      return true;
    };
    std::set<std::vector<uint8_t>> found;
    for (unsigned r = 0; r < K; r++) {
      const bool last = r == K - 1;
      // The last merge needs words K-1 and K to agree (the final XOR must be zero).
      auto key = [&](const Row& a) { return uint64_t(a.w[r]) << 32 | (last && !nearMisses ? a.w[K] : 0); };
      std::sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) { return key(a) < key(b); });
      std::vector<Row> next;
      for (size_t s = 0; s < rows.size();) {
        size_t e = s + 1;
        while (e < rows.size() && key(rows[e]) == key(rows[s])) e++;
        for (size_t a = s; a < e; a++)
          for (size_t b = a + 1; b < e; b++) {
            if (!distinct(rows[a], rows[b])) continue;
            // Lexicographically smaller index list first, as the verifier requires.
            const bool aFirst = rows[a].idx < rows[b].idx;
            const Row& lo = aFirst ? rows[a] : rows[b];
            const Row& hi = aFirst ? rows[b] : rows[a];
            Row m;
            for (unsigned w = 0; w < kWords; w++) m.w[w] = lo.w[w] ^ hi.w[w];
            m.idx = lo.idx;
            m.idx.insert(m.idx.end(), hi.idx.begin(), hi.idx.end());
            if (last) {
              std::vector<uint8_t> sol(kSolutionBytes);
              encode(m.idx.data(), sol.data());
              if (verify(input, nonce, sol.data()) == (nearMisses ? kFinalNotZero : kValid))
                found.insert(std::move(sol));
            } else {
              next.push_back(std::move(m));
            }
          }
        s = e;
      }
      rows.swap(next);
    }
    return {found.begin(), found.end()};
  }
};

}  // namespace eg
