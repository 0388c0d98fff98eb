// SHA-256 (FIPS 180-4), one-shot. Used for the target check input: SHA-256(output) (docs/pow.md).
#pragma once
#include <cstddef>
#include <cstdint>

namespace eg {
void sha256(const uint8_t* data, size_t len, uint8_t out[32]);
}
