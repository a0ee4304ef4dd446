#include "native_error.h"

#include <cerrno>
#include <cstring>

namespace droidway {

NativeStatus NativeStatus::Error(int negative_errno, const char* syscall, std::string message) {
  // A zero or positive code would read as success; map it to EIO so a failure is never lost.
  if (negative_errno >= 0) negative_errno = -EIO;
  return NativeStatus(negative_errno, syscall, std::move(message));
}

NativeStatus NativeStatus::FromErrno(const char* syscall, std::string message) {
  const int saved = errno;
  return Error(saved > 0 ? -saved : -EIO, syscall, std::move(message));
}

std::string ErrnoName(int positive_errno) {
  const char* name = strerrorname_np(positive_errno);
  return name != nullptr ? std::string(name) : "E" + std::to_string(positive_errno);
}

#ifndef DROIDWAY_NATIVE_NO_NAPI
Napi::Error NativeStatus::ToJsError(Napi::Env env) const {
  const int positive = -code_;
  const std::string name = ErrnoName(positive);
  const char* description = strerrordesc_np(positive);
  std::string text = message_;
  text += ": ";
  text += description != nullptr ? description : "unknown error";
  text += " (" + name + ")";

  Napi::Error error = Napi::Error::New(env, text);
  error.Set("code", Napi::String::New(env, name));
  error.Set("errno", Napi::Number::New(env, code_));
  error.Set("syscall", Napi::String::New(env, syscall_));
  return error;
}

void NativeStatus::ThrowIfError(Napi::Env env) const {
  if (!ok()) throw ToJsError(env);
}

#endif  // DROIDWAY_NATIVE_NO_NAPI

}  // namespace droidway
