#include "fd_ops.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "js_args.h"

namespace droidway {

NativeStatus FdOps::Close(int fd) {
  if (::close(fd) < 0 && errno != EINTR) {
    return NativeStatus::FromErrno("close", "close fd " + std::to_string(fd));
  }
  return {};
}

NativeStatus FdOps::Truncate(int fd, uint64_t size) {
  for (;;) {
    if (::ftruncate(fd, static_cast<off_t>(size)) == 0) return {};
    if (errno != EINTR) {
      return NativeStatus::FromErrno(
          "ftruncate", "ftruncate fd " + std::to_string(fd) + " to " + std::to_string(size));
    }
  }
}

NativeStatus FdOps::NewSession() {
  if (::setsid() < 0) return NativeStatus::FromErrno("setsid", "setsid");
  return {};
}

NativeStatus FdOps::ReplaceStdio(int out_fd) {
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd < 0) return NativeStatus::FromErrno("open", "open /dev/null");
  NativeStatus status;
  if (::dup2(null_fd, STDIN_FILENO) < 0) {
    status = NativeStatus::FromErrno("dup2", "dup2 /dev/null onto stdin");
  } else if (::dup2(out_fd, STDOUT_FILENO) < 0) {
    status = NativeStatus::FromErrno("dup2", "dup2 fd " + std::to_string(out_fd) + " onto stdout");
  } else if (::dup2(out_fd, STDERR_FILENO) < 0) {
    status = NativeStatus::FromErrno("dup2", "dup2 fd " + std::to_string(out_fd) + " onto stderr");
  }
  ::close(null_fd);
  return status;
}

namespace {

Napi::Value JsNewSession(const Napi::CallbackInfo& info) {
  JsArgs args(info);
  args.ExpectCount(0);
  FdOps::NewSession().ThrowIfError(info.Env());
  return info.Env().Undefined();
}

Napi::Value JsReplaceStdio(const Napi::CallbackInfo& info) {
  JsArgs args(info);
  args.ExpectCount(1);
  FdOps::ReplaceStdio(args.Fd(0, "fd")).ThrowIfError(info.Env());
  return info.Env().Undefined();
}

Napi::Value JsCloseFd(const Napi::CallbackInfo& info) {
  JsArgs args(info);
  args.ExpectCount(1);
  FdOps::Close(args.Fd(0, "fd")).ThrowIfError(info.Env());
  return info.Env().Undefined();
}

Napi::Value JsTruncateFd(const Napi::CallbackInfo& info) {
  JsArgs args(info);
  args.ExpectCount(2);
  const int fd = args.Fd(0, "fd");
  const auto size = static_cast<uint64_t>(args.Integer(1, "size", 0, JsArgs::kMaxSafeInteger));
  FdOps::Truncate(fd, size).ThrowIfError(info.Env());
  return info.Env().Undefined();
}

}  // namespace

void FdOps::Register(Napi::Env env, Napi::Object exports) {
  exports.Set("closeFd", Napi::Function::New(env, JsCloseFd, "closeFd"));
  exports.Set("truncateFd", Napi::Function::New(env, JsTruncateFd, "truncateFd"));
  exports.Set("newSession", Napi::Function::New(env, JsNewSession, "newSession"));
  exports.Set("replaceStdio", Napi::Function::New(env, JsReplaceStdio, "replaceStdio"));
}

}  // namespace droidway
