// N-API surface; the contract is src/pow/native.ts. Every argument is validated here so that
// no JS value can make the C++ side read or write out of bounds.
#include <napi.h>

#include <chrono>
#include <cstring>
#include <vector>

#include "blake2b.h"
#include "nano_work.h"
#include "pow.h"
#include "sha256.h"
#include "siphash.h"

namespace {

struct Bytes {
  const uint8_t* data;
  size_t len;
};

// Accepts any Uint8Array (a Buffer is one).
Bytes bytesArg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Env env = info.Env();
  Napi::Value v = info[i];
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, std::string(name) + " must be a Uint8Array");
  Napi::Uint8Array a = v.As<Napi::Uint8Array>();
  return {a.Data(), a.ByteLength()};
}

uint8_t* mutableBytesArg(const Napi::CallbackInfo& info, size_t i, const char* name, size_t* len) {
  Bytes b = bytesArg(info, i, name);
  *len = b.len;
  return const_cast<uint8_t*>(b.data);
}

// A non-negative integer Number no larger than `max`.
size_t countArg(const Napi::CallbackInfo& info, size_t i, const char* name, double max) {
  Napi::Env env = info.Env();
  if (!info[i].IsNumber()) throw Napi::TypeError::New(env, std::string(name) + " must be a number");
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= 0) || d > max || d != static_cast<double>(static_cast<uint64_t>(d)))
    throw Napi::RangeError::New(env, std::string(name) + " must be an integer in [0, " +
                                         std::to_string(static_cast<uint64_t>(max)) + "]");
  return static_cast<size_t>(d);
}

int variantArg(const Napi::CallbackInfo& info, size_t i) {
  Napi::Env env = info.Env();
  if (!info[i].IsNumber()) throw Napi::TypeError::New(env, "variant must be a number");
  double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 255) || d != static_cast<double>(static_cast<int>(d)))
    throw Napi::RangeError::New(env, "variant must be an integer in [0, 255]");
  return static_cast<int>(d);
}

uint64_t u64Arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  Napi::Env env = info.Env();
  if (!info[i].IsBigInt()) throw Napi::TypeError::New(env, std::string(name) + " must be a bigint");
  bool lossless = false;
  uint64_t v = info[i].As<Napi::BigInt>().Uint64Value(&lossless);
  if (!lossless) throw Napi::RangeError::New(env, std::string(name) + " must be in [0, 2^64)");
  return v;
}

Napi::Buffer<uint8_t> copyBuffer(Napi::Env env, const uint8_t* data, size_t len) {
  return Napi::Buffer<uint8_t>::Copy(env, data, len);
}

// Checks records/count/results and returns count.
size_t batchArgs(const Napi::CallbackInfo& info, Bytes* records, uint8_t** results, bool needResults) {
  Napi::Env env = info.Env();
  *records = bytesArg(info, 0, "records");
  const size_t count = countArg(info, 1, "count", 1 << 30);
  // Divide instead of multiplying: count * stride cannot wrap whatever count a caller passes.
  if (count > records->len / eg::kRecordStride)
    throw Napi::RangeError::New(env, "records is shorter than count * RECORD_STRIDE");
  if (needResults) {
    size_t resultsLen = 0;
    *results = mutableBytesArg(info, 2, "results", &resultsLen);
    if (count > resultsLen / eg::kResultStride)
      throw Napi::RangeError::New(env, "results is shorter than count * RESULT_STRIDE");
  }
  return count;
}

Napi::Value Blake2b(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes data = bytesArg(info, 0, "data");
  const size_t outLen = countArg(info, 1, "outLen", eg::kBlake2bMaxOut);
  if (outLen == 0) throw Napi::RangeError::New(env, "outLen must be in [1, 64]");
  const uint8_t* personal = nullptr;
  if (info.Length() > 2 && !info[2].IsUndefined()) {
    Bytes p = bytesArg(info, 2, "personal");
    if (p.len != eg::kBlake2bPersonal) throw Napi::RangeError::New(env, "personal must be 16 bytes");
    personal = p.data;
  }
  Bytes key{nullptr, 0};
  if (info.Length() > 3 && !info[3].IsUndefined()) {
    key = bytesArg(info, 3, "key");
    if (key.len > 64) throw Napi::RangeError::New(env, "key must be at most 64 bytes");
  }
  eg::Blake2b h(outLen, key.data, key.len, personal);
  h.update(data.data, data.len);
  uint8_t out[eg::kBlake2bMaxOut];
  h.final(out);
  return copyBuffer(env, out, outLen);
}

Napi::Value Sha256(const Napi::CallbackInfo& info) {
  Bytes data = bytesArg(info, 0, "data");
  uint8_t out[32];
  eg::sha256(data.data, data.len, out);
  return copyBuffer(info.Env(), out, 32);
}

// message: a bigint (hashed as its 8 little-endian bytes) or a Uint8Array of any length.
Napi::Value SipHash24(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const uint64_t k0 = u64Arg(info, 0, "k0");
  const uint64_t k1 = u64Arg(info, 1, "k1");
  uint64_t r;
  if (info[2].IsBigInt()) {
    uint8_t m[8];
    eg::store64le(m, u64Arg(info, 2, "message"));
    r = eg::sipHash24(k0, k1, m, 8);
  } else if (info[2].IsTypedArray()) {
    Bytes m = bytesArg(info, 2, "message");
    r = eg::sipHash24(k0, k1, m.data, m.len);
  } else {
    throw Napi::TypeError::New(env, "message must be a bigint or a Uint8Array");
  }
  return Napi::BigInt::New(env, r);
}

Napi::Value VerifyOne(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int variant = variantArg(info, 0);
  Bytes input = bytesArg(info, 1, "input");
  Bytes nonce = bytesArg(info, 2, "nonce");
  Bytes output = bytesArg(info, 3, "output");
  uint8_t result[eg::kResultStride];
  eg::verifyOneToResult(variant, input.data, input.len, nonce.data, nonce.len, output.data, output.len,
                        result);
  Napi::Object o = Napi::Object::New(env);
  o.Set("code", Napi::Number::New(env, result[0]));
  o.Set("hash", copyBuffer(env, result + 1, 32));
  return o;
}

Napi::Value VerifyBatchSync(const Napi::CallbackInfo& info) {
  Bytes records;
  uint8_t* results = nullptr;
  const size_t count = batchArgs(info, &records, &results, true);
  eg::verifyRecords(records.data, count, results);
  return info.Env().Undefined();
}

// Works on private copies so that nothing the event loop does to the caller's buffers while the
// worker runs (writes, transfer/detach) can race with it; results are copied back in OnOK.
class BatchWorker : public Napi::AsyncWorker {
 public:
  BatchWorker(Napi::Function done, Napi::Uint8Array records, Napi::Uint8Array results, size_t count)
      : Napi::AsyncWorker(done, "equigate:verifyBatch"),
        in_(records.Data(), records.Data() + count * eg::kRecordStride),
        out_(count * eg::kResultStride),
        count_(count) {
    records_ = Napi::Persistent(records);
    results_ = Napi::Persistent(results);
  }

  void Execute() override { eg::verifyRecords(in_.data(), count_, out_.data()); }

  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    Napi::Uint8Array results = results_.Value();
    if (results.ByteLength() < out_.size()) {
      Callback().Call({Napi::RangeError::New(env, "results buffer shrank or was detached").Value()});
      return;
    }
    if (!out_.empty()) std::memcpy(results.Data(), out_.data(), out_.size());
    Callback().Call({env.Null()});
  }

 private:
  Napi::Reference<Napi::Uint8Array> records_;
  Napi::Reference<Napi::Uint8Array> results_;
  std::vector<uint8_t> in_;
  std::vector<uint8_t> out_;
  size_t count_;
};

Napi::Value VerifyBatch(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes records;
  uint8_t* results = nullptr;
  const size_t count = batchArgs(info, &records, &results, true);
  if (!info[3].IsFunction()) throw Napi::TypeError::New(env, "done must be a function");
  auto* w = new BatchWorker(info[3].As<Napi::Function>(), info[0].As<Napi::Uint8Array>(),
                            info[2].As<Napi::Uint8Array>(), count);
  w->Queue();
  return env.Undefined();
}

Napi::Value LoopBench(const Napi::CallbackInfo& info) {
  Bytes records;
  const size_t count = batchArgs(info, &records, nullptr, false);
  const size_t iterations = countArg(info, 2, "iterations", 1e9);
  std::vector<uint8_t> results(count * eg::kResultStride);
  const auto start = std::chrono::steady_clock::now();
  for (size_t it = 0; it < iterations; it++) eg::verifyRecords(records.data, count, results.data());
  const auto end = std::chrono::steady_clock::now();
  // Keep the work observable so the loop cannot be optimised away.
  volatile uint8_t sink = count ? results[0] : 0;
  (void)sink;
  return Napi::Number::New(info.Env(),
                           double(std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count()));
}

Napi::Value Solve(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int variant = variantArg(info, 0);
  Bytes input = bytesArg(info, 1, "input");
  Bytes nonce = bytesArg(info, 2, "nonce");
  if (!eg::canSolve(variant))
    throw Napi::TypeError::New(env, "solve() supports only small-N variants (Devnet = 16); got " +
                                        std::to_string(variant));
  if (input.len != eg::kInputBytes) throw Napi::RangeError::New(env, "input must be 32 bytes");
  if (nonce.len != eg::kNonceBytes) throw Napi::RangeError::New(env, "nonce must be 8 bytes");
  const auto sols = eg::solve(variant, input.data, nonce.data);
  Napi::Array out = Napi::Array::New(env, sols.size());
  for (size_t i = 0; i < sols.size(); i++) out.Set(uint32_t(i), copyBuffer(env, sols[i].data(), sols[i].size()));
  return out;
}

Napi::Value SolutionBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "variant must be a number");
  double d = info[0].As<Napi::Number>().DoubleValue();
  const bool isInt = d >= 0 && d <= 255 && d == static_cast<double>(static_cast<int>(d));
  return Napi::Number::New(env, isInt ? double(eg::solutionBytes(static_cast<int>(d))) : 0);
}

// --- Nano/Banano work generation (docs/work-service.md "Work value"); used by the reference worker's threads.
// nanoWorkGenerate(root: Uint8Array(32), threshold: bigint, startNonce: bigint, iterations: number)
//   → { work: bigint, value: bigint } for the first nonce in [start, start + iterations) meeting the
//   threshold, or null. Synchronous: callers run it on worker threads in bounded chunks.
Napi::Value NanoWorkGenerate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Bytes root = bytesArg(info, 0, "root");
  if (root.len != 32) throw Napi::RangeError::New(env, "root must be 32 bytes");
  const uint64_t threshold = u64Arg(info, 1, "threshold");
  const uint64_t start = u64Arg(info, 2, "startNonce");
  const size_t iterations = countArg(info, 3, "iterations", 1e12);
  uint64_t found = 0, value = 0;
  if (!eg::nanoWorkSearch(root.data, threshold, start, iterations, &found, &value)) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("work", Napi::BigInt::New(env, found));
  o.Set("value", Napi::BigInt::New(env, value));
  return o;
}
// --- end Nano/Banano work generation

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("blake2b", Napi::Function::New(env, Blake2b, "blake2b"));
  exports.Set("sha256", Napi::Function::New(env, Sha256, "sha256"));
  exports.Set("siphash24", Napi::Function::New(env, SipHash24, "siphash24"));
  exports.Set("verifyOne", Napi::Function::New(env, VerifyOne, "verifyOne"));
  exports.Set("verifyBatchSync", Napi::Function::New(env, VerifyBatchSync, "verifyBatchSync"));
  exports.Set("verifyBatch", Napi::Function::New(env, VerifyBatch, "verifyBatch"));
  exports.Set("loopBench", Napi::Function::New(env, LoopBench, "loopBench"));
  exports.Set("solve", Napi::Function::New(env, Solve, "solve"));
  exports.Set("solutionBytes", Napi::Function::New(env, SolutionBytes, "solutionBytes"));
  exports.Set("nanoWorkGenerate", Napi::Function::New(env, NanoWorkGenerate, "nanoWorkGenerate"));
  return exports;
}

}  // namespace

NODE_API_MODULE(equigate_native, Init)
