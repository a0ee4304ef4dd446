// Argument checks at the JS edge. The TypeScript facade validates first; these checks repeat it so
// that a direct caller of the .node gets a TypeError/RangeError (with a Node-style `code`) instead
// of undefined behaviour.
#ifndef DROIDWAY_NATIVE_JS_ARGS_H_
#define DROIDWAY_NATIVE_JS_ARGS_H_

#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

namespace droidway {

/** Reads and validates the arguments of one call; every reader throws on bad input. */
class JsArgs {
 public:
  /** Largest integer a JS number holds exactly (2^53 - 1). */
  static constexpr int64_t kMaxSafeInteger = 9007199254740991LL;

  explicit JsArgs(const Napi::CallbackInfo& info) : info_(info), env_(info.Env()) {}

  /** Throws a TypeError unless exactly `count` arguments were passed. */
  void ExpectCount(size_t count) const;

  /** A non-negative integer fd (0..INT_MAX). */
  int Fd(size_t index, const char* name) const;
  /** An integer in [min, max] (both within the safe-integer range). */
  int64_t Integer(size_t index, const char* name, int64_t min, int64_t max) const;
  /** A string. */
  std::string String(size_t index, const char* name) const;
  /** A string equal to one of `choices`. */
  std::string Choice(size_t index, const char* name, const std::vector<const char*>& choices) const;
  /** A Uint8Array (Buffer included) of `min_length`..`max_length` bytes, copied. */
  std::vector<uint8_t> Bytes(size_t index, const char* name, size_t min_length,
                             size_t max_length) const;
  /** An array of at most `max_count` fds. */
  std::vector<int> FdArray(size_t index, const char* name, size_t max_count) const;
  /** A plain object. */
  Napi::Object Object(size_t index, const char* name) const;

  /** Validates `value` (named `name`) as an integer in [min, max]. */
  static int64_t IntegerValue(Napi::Env env, Napi::Value value, const std::string& name,
                              int64_t min, int64_t max);
  /** Validates `value` as a boolean. */
  static bool BooleanValue(Napi::Env env, Napi::Value value, const std::string& name);

  /** A TypeError with code ERR_INVALID_ARG_TYPE. */
  static Napi::Error TypeError(Napi::Env env, const std::string& message);
  /** A RangeError with code ERR_OUT_OF_RANGE. */
  static Napi::Error RangeError(Napi::Env env, const std::string& message);

 private:
  Napi::Value At(size_t index) const { return info_[index]; }

  const Napi::CallbackInfo& info_;
  Napi::Env env_;
};

}  // namespace droidway

#endif  // DROIDWAY_NATIVE_JS_ARGS_H_
