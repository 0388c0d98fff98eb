#!/bin/sh
# Builds native/test/fuzz_harness.cc with AddressSanitizer + UBSan (no Node involved) and runs it
# over the test vectors (test/vectors) plus random inputs. Usage: native/test/run-sanitizer.sh [random-count]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
native=$(dirname "$here")
repo=$(dirname "$native")
out=${TMPDIR:-/tmp}/equigate-fuzz-harness
${CXX:-g++} -std=c++17 -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all \
  -Wall -Wextra -o "$out" \
  "$here/fuzz_harness.cc" "$native/blake2b.cc" "$native/blake2b_lanes.cc" "$native/sha256.cc" \
  "$native/beamhash3.cc" "$native/pow.cc"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
vectors="$repo/test/vectors/beamhash.json"
# The full run on the CPU's best SIMD path, then shorter runs capped to the fallbacks.
"$out" "$vectors" "${1:-300000}"
for simd in avx2 scalar; do
  echo "--- EQUIGATE_NATIVE_SIMD=$simd"
  EQUIGATE_NATIVE_SIMD=$simd "$out" "$vectors" 20000
done
