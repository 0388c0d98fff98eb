// Standalone sanitizer harness (no Node): hash known-answer tests, SIMD lanes vs scalar, the test
// vectors under every variant, devnet solve, then random and mutated inputs through the verifiers.
// Build and run: native/test/run-sanitizer.sh (g++ -fsanitize=address,undefined).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "../blake2b.h"
#include "../blake2b_lanes.h"
#include "../equihash.h"
#include "../pow.h"
#include "../sha256.h"
#include "../siphash.h"

namespace {

int failures = 0;
#define CHECK(cond, ...)                                   \
  do {                                                     \
    if (!(cond)) {                                         \
      failures++;                                          \
      std::fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      std::fprintf(stderr, __VA_ARGS__);                   \
      std::fprintf(stderr, "\n");                          \
    }                                                      \
  } while (0)

uint64_t rngState = 0x243f6a8885a308d3ULL;
uint64_t rnd() {  // splitmix64: deterministic runs
  uint64_t z = (rngState += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
void fill(uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = uint8_t(rnd());
}

std::vector<uint8_t> unhex(const std::string& s) {
  std::vector<uint8_t> out(s.size() / 2);
  for (size_t i = 0; i < out.size(); i++) out[i] = uint8_t(std::stoul(s.substr(2 * i, 2), nullptr, 16));
  return out;
}
std::string hex(const uint8_t* p, size_t n) {
  static const char* d = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < n; i++) {
    s += d[p[i] >> 4];
    s += d[p[i] & 15];
  }
  return s;
}

struct Vector {
  std::string name;
  int variant;  // 0 = "any"
  std::vector<uint8_t> input, nonce, output;
  bool valid;
};

// Minimal extraction for the flat objects in beamhash.json's "valid" / "invalid" arrays.
std::string field(const std::string& obj, const std::string& key) {
  const std::string k = "\"" + key + "\"";
  size_t p = obj.find(k);
  if (p == std::string::npos) return "";
  p = obj.find(':', p + k.size());
  p = obj.find_first_not_of(" \t\r\n", p + 1);
  if (obj[p] == '"') return obj.substr(p + 1, obj.find('"', p + 1) - p - 1);
  return obj.substr(p, obj.find_first_of(",}\r\n", p) - p);
}

// Index of the ']' closing the array that opens at `open`, skipping string literals.
size_t arrayEnd(const std::string& text, size_t open) {
  int depth = 0;
  for (size_t i = open; i < text.size(); i++) {
    const char c = text[i];
    if (c == '"') {
      for (i++; i < text.size() && text[i] != '"'; i++)
        if (text[i] == '\\') i++;
    } else if (c == '[') {
      depth++;
    } else if (c == ']' && --depth == 0) {
      return i;
    }
  }
  return text.size();
}

std::vector<Vector> loadVectors(const char* path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  std::vector<Vector> out;
  for (const char* section : {"\"valid\"", "\"invalid\""}) {
    size_t p = text.find(section);
    if (p == std::string::npos) continue;
    const size_t end = arrayEnd(text, text.find('[', p));
    // Each entry starts with "name"; nested "source" objects hold no "variant".
    for (size_t q = text.find("\"name\"", p); q != std::string::npos && q < end;
         q = text.find("\"name\"", q + 1)) {
      const size_t next = std::min(text.find("\"name\"", q + 1), end);
      const std::string obj = text.substr(q, next - q);
      const std::string variant = field(obj, "variant");
      if (variant.empty()) continue;
      Vector v;
      v.name = field(obj, "name");
      v.variant = variant == "BeamHashI" ? 1 : variant == "BeamHashII" ? 2 : variant == "BeamHashIII" ? 3 : 0;
      v.input = unhex(field(obj, "input"));
      v.nonce = unhex(field(obj, "nonce"));
      v.output = unhex(field(obj, "output"));
      v.valid = field(obj, "expected_pow_valid") == "true";
      out.push_back(v);
    }
  }
  return out;
}

// Calls the verifier on exact-size heap copies so that any over-read is caught by ASan.
uint8_t verifyExact(int variant, const std::vector<uint8_t>& input, const std::vector<uint8_t>& nonce,
                    const std::vector<uint8_t>& output) {
  auto dup = [](const std::vector<uint8_t>& v) {
    uint8_t* p = new uint8_t[v.size() ? v.size() : 1];
    if (!v.empty()) std::memcpy(p, v.data(), v.size());
    return p;
  };
  uint8_t *i = dup(input), *n = dup(nonce), *o = dup(output);
  uint8_t result[eg::kResultStride];
  eg::verifyOneToResult(variant, i, input.size(), n, nonce.size(), o, output.size(), result);
  const uint8_t code = eg::verifySolution(variant, i, input.size(), n, nonce.size(), o, output.size());
  CHECK(code == result[0], "verifySolution and verifyOneToResult disagree");
  delete[] i;
  delete[] n;
  delete[] o;
  return code;
}

void knownAnswers() {
  uint8_t out[64];
  eg::Blake2b b(64);
  b.update(reinterpret_cast<const uint8_t*>("abc"), 3);
  b.final(out);
  CHECK(hex(out, 64) == "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
                        "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923",
        "blake2b abc");
  eg::sha256(reinterpret_cast<const uint8_t*>("abc"), 3, out);
  CHECK(hex(out, 32) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "sha256 abc");
  uint8_t msg[15];
  for (int i = 0; i < 15; i++) msg[i] = uint8_t(i);
  CHECK(eg::sipHash24(0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL, msg, 15) == 0xa129ca6149be45e5ULL,
        "siphash paper vector");
}

void lanesAgree() {
  uint64_t h0[8], m[5];
  uint32_t g[37];
  uint64_t ref[37][8], got[37][8];
  for (int trial = 0; trial < 200; trial++) {
    for (auto& x : h0) x = rnd();
    for (auto& x : m) x = rnd();
    for (auto& x : g) x = uint32_t(rnd());
    const size_t count = rnd() % 38;
    eg::blake2bIndexHashesVia(eg::LanesPath::kScalar, h0, m, g, count, ref);
    for (auto path : {eg::LanesPath::kAvx2, eg::LanesPath::kAvx512}) {
      std::memset(got, 0, sizeof got);
      if (!eg::blake2bIndexHashesVia(path, h0, m, g, count, got)) continue;
      CHECK(std::memcmp(ref, got, count * sizeof ref[0]) == 0, "lane path %d differs", int(path));
    }
  }
  std::printf("blake2b lanes: dispatch uses %s\n", eg::blake2bLanesPath());
}

}  // namespace

int main(int argc, char** argv) {
  const char* vectorsPath = argc > 1 ? argv[1] : "test/vectors/beamhash.json";
  const long randomCount = argc > 2 ? std::atol(argv[2]) : 300000;
  knownAnswers();
  lanesAgree();

  const std::vector<Vector> vectors = loadVectors(vectorsPath);
  CHECK(vectors.size() >= 10, "expected the test vectors, got %zu", vectors.size());
  std::vector<Vector> valid;
  for (const Vector& v : vectors) {
    for (int variant : {1, 2, 3, 16, 0, 99}) {
      const uint8_t code = verifyExact(variant, v.input, v.nonce, v.output);
      const bool expect = v.valid && variant == v.variant;
      CHECK((code == eg::kValid) == expect, "%s under %d: code %d", v.name.c_str(), variant, code);
    }
    if (v.valid) valid.push_back(v);
  }
  std::printf("vectors: %zu checked under 6 variant ids\n", vectors.size());

  // Devnet: every solution found must verify, and a one-bit change must not.
  size_t solutions = 0;
  for (uint32_t n = 0; n < 64; n++) {
    Vector d{"devnet", 16, std::vector<uint8_t>(32, 0x11), std::vector<uint8_t>(8, 0), {}, true};
    std::memcpy(d.nonce.data(), &n, 4);
    for (auto& sol : eg::solve(16, d.input.data(), d.nonce.data())) {
      solutions++;
      d.output = sol;
      CHECK(verifyExact(16, d.input, d.nonce, d.output) == eg::kValid, "devnet solution rejected");
      valid.push_back(d);
    }
  }
  std::printf("devnet: %zu solutions over 64 nonces\n", solutions);
  // Near misses (last merge collides, final word not zero) must be reported as such.
  size_t nearMisses = 0;
  for (uint32_t n = 0; n < 8; n++) {
    const std::vector<uint8_t> input(32, 0x22);
    std::vector<uint8_t> nonce(8, 0);
    std::memcpy(nonce.data(), &n, 4);
    for (auto& sol : eg::EquihashR<48, 5, 0>::solve(input.data(), nonce.data(), true)) {
      nearMisses++;
      CHECK(verifyExact(16, input, nonce, sol) == eg::kFinalNotZero, "near miss not FinalNotZero");
    }
  }
  CHECK(nearMisses > 0, "no devnet near misses found");
  std::printf("devnet: %zu near misses rejected as FinalNotZero\n", nearMisses);

  // Mutations of valid solutions: any single-bit change in input, nonce or output is rejected.
  long mutated = 0;
  for (const Vector& v : valid) {
    for (int k = 0; k < 400; k++) {
      Vector m = v;
      std::vector<uint8_t>* target = k % 8 == 0 ? &m.input : k % 8 == 1 ? &m.nonce : &m.output;
      const size_t bit = rnd() % (target->size() * 8);
      (*target)[bit / 8] ^= uint8_t(1u << (bit % 8));
      CHECK(verifyExact(v.variant, m.input, m.nonce, m.output) != eg::kValid, "mutated %s accepted", v.name.c_str());
      mutated++;
    }
  }
  std::printf("mutations: %ld rejected\n", mutated);

  // Random records, exact-size buffer, through the batch path; random lengths on the one-shot path.
  long codes[16] = {0};
  const int variants[] = {1, 2, 3, 16, 1, 2, 3, 16, 0, 255};
  const long chunk = 1000;
  for (long done = 0; done < randomCount; done += chunk) {
    std::vector<uint8_t> records(chunk * eg::kRecordStride), results(chunk * eg::kResultStride);
    fill(records.data(), records.size());
    for (long i = 0; i < chunk; i++) {
      uint8_t* rec = records.data() + i * eg::kRecordStride;
      if (i % 8 != 0) {
        const int variant = variants[rnd() % 10];
        rec[0] = uint8_t(variant);
        const size_t len = eg::solutionBytes(variant);
        rec[2] = uint8_t(len);
        rec[3] = uint8_t(len >> 8);
      }
    }
    eg::verifyRecords(records.data(), chunk, results.data());
    for (long i = 0; i < chunk; i++) {
      const uint8_t code = results[i * eg::kResultStride];
      CHECK(code <= eg::kUnknownVariant, "bad code %d", code);
      codes[code & 15]++;
    }
  }
  for (int i = 0; i < 2000; i++) {
    std::vector<uint8_t> input(rnd() % 40), nonce(rnd() % 12), output(rnd() % 120);
    fill(input.data(), input.size());
    fill(nonce.data(), nonce.size());
    fill(output.data(), output.size());
    const uint8_t code = verifyExact(variants[rnd() % 10], input, nonce, output);
    CHECK(code != eg::kValid, "random one-shot input accepted");
  }
  std::printf("random records: %ld; codes:", randomCount);
  for (int i = 0; i < 10; i++) std::printf(" %d=%ld", i, codes[i]);
  std::printf("\n%s (%d failures)\n", failures ? "FAILED" : "OK", failures);
  return failures ? 1 : 0;
}
