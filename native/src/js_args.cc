#include "js_args.h"

#include <climits>
#include <cmath>

namespace droidway {

Napi::Error JsArgs::TypeError(Napi::Env env, const std::string& message) {
  Napi::Error error = Napi::TypeError::New(env, message);
  error.Set("code", Napi::String::New(env, "ERR_INVALID_ARG_TYPE"));
  return error;
}

Napi::Error JsArgs::RangeError(Napi::Env env, const std::string& message) {
  Napi::Error error = Napi::RangeError::New(env, message);
  error.Set("code", Napi::String::New(env, "ERR_OUT_OF_RANGE"));
  return error;
}

void JsArgs::ExpectCount(size_t count) const {
  if (info_.Length() != count) {
    throw TypeError(env_, "expected " + std::to_string(count) + " arguments, got " +
                              std::to_string(info_.Length()));
  }
}

int64_t JsArgs::IntegerValue(Napi::Env env, Napi::Value value, const std::string& name, int64_t min,
                             int64_t max) {
  if (!value.IsNumber()) throw TypeError(env, name + " must be a number");
  const double number = value.As<Napi::Number>().DoubleValue();
  if (!std::isfinite(number) || std::trunc(number) != number) {
    throw RangeError(env, name + " must be an integer");
  }
  // Compare as doubles first: casting an out-of-range double to int64_t is undefined.
  if (number < static_cast<double>(min) || number > static_cast<double>(max)) {
    throw RangeError(
        env, name + " must be between " + std::to_string(min) + " and " + std::to_string(max));
  }
  return static_cast<int64_t>(number);
}

bool JsArgs::BooleanValue(Napi::Env env, Napi::Value value, const std::string& name) {
  if (!value.IsBoolean()) throw TypeError(env, name + " must be a boolean");
  return value.As<Napi::Boolean>().Value();
}

int JsArgs::Fd(size_t index, const char* name) const {
  return static_cast<int>(IntegerValue(env_, At(index), name, 0, INT_MAX));
}

int64_t JsArgs::Integer(size_t index, const char* name, int64_t min, int64_t max) const {
  return IntegerValue(env_, At(index), name, min, max);
}

std::string JsArgs::String(size_t index, const char* name) const {
  Napi::Value value = At(index);
  if (!value.IsString()) throw TypeError(env_, std::string(name) + " must be a string");
  return value.As<Napi::String>().Utf8Value();
}

std::string JsArgs::Choice(size_t index, const char* name,
                           const std::vector<const char*>& choices) const {
  std::string value = String(index, name);
  std::string list;
  for (const char* choice : choices) {
    if (value == choice) return value;
    list += list.empty() ? "'" : ", '";
    list += choice;
    list += "'";
  }
  throw RangeError(env_, std::string(name) + " must be one of " + list);
}

std::vector<uint8_t> JsArgs::Bytes(size_t index, const char* name, size_t min_length,
                                   size_t max_length) const {
  Napi::Value value = At(index);
  if (!value.IsTypedArray() || value.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
    throw TypeError(env_, std::string(name) + " must be a Uint8Array");
  }
  auto array = value.As<Napi::Uint8Array>();
  const size_t length = array.ByteLength();
  if (length < min_length || length > max_length) {
    throw RangeError(env_, std::string(name) + " must hold " + std::to_string(min_length) + ".." +
                               std::to_string(max_length) + " bytes");
  }
  // Copied: the worker thread must not read memory that JS can change or free meanwhile.
  return std::vector<uint8_t>(array.Data(), array.Data() + length);
}

std::vector<int> JsArgs::FdArray(size_t index, const char* name, size_t max_count) const {
  Napi::Value value = At(index);
  if (!value.IsArray()) throw TypeError(env_, std::string(name) + " must be an array");
  auto array = value.As<Napi::Array>();
  const uint32_t count = array.Length();
  if (count > max_count) {
    throw RangeError(
        env_, std::string(name) + " must hold at most " + std::to_string(max_count) + " fds");
  }
  std::vector<int> fds;
  fds.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    const std::string element = std::string(name) + "[" + std::to_string(i) + "]";
    fds.push_back(static_cast<int>(IntegerValue(env_, array.Get(i), element, 0, INT_MAX)));
  }
  return fds;
}

Napi::Object JsArgs::Object(size_t index, const char* name) const {
  Napi::Value value = At(index);
  if (!value.IsObject() || value.IsArray() || value.IsFunction()) {
    throw TypeError(env_, std::string(name) + " must be an object");
  }
  return value.As<Napi::Object>();
}

}  // namespace droidway
