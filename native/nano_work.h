// Nano/Banano proof of work (docs/work-service.md "Work value"): value = BLAKE2b-64 over
// nonce (u64 little-endian) ‖ root(32), read as u64 little-endian; valid iff value ≥ threshold.
#pragma once
#include <cstddef>
#include <cstdint>

namespace eg {

// The work value of one nonce for a 32-byte root: one BLAKE2b compression.
uint64_t nanoWorkValue(const uint8_t root[32], uint64_t nonce);

// Tries nonces start, start+1, … (wrapping mod 2^64) at most `iterations` times. Returns true and
// sets *found (and *value) on the first nonce whose value ≥ threshold.
bool nanoWorkSearch(const uint8_t root[32], uint64_t threshold, uint64_t start, uint64_t iterations,
                    uint64_t* found, uint64_t* value);

}  // namespace eg
