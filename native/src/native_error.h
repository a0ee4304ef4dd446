// The module's error convention (see native/DESIGN.md): internal functions return a
// NativeStatus (0 or a negative errno, the failing syscall and a message); only the JS edge turns
// it into a JS Error with `code`, `errno` and `syscall`.
#ifndef DROIDWAY_NATIVE_NATIVE_ERROR_H_
#define DROIDWAY_NATIVE_NATIVE_ERROR_H_

#ifndef DROIDWAY_NATIVE_NO_NAPI  // the bridge process builds the core without Node
#include <napi.h>
#endif

#include <string>

namespace droidway {

/** Result of an internal operation: success, or a negative errno with context. */
class NativeStatus {
 public:
  /** Success. */
  NativeStatus() = default;

  /** Failure with `negative_errno` (< 0), the failing `syscall` and what was being done. */
  static NativeStatus Error(int negative_errno, const char* syscall, std::string message);
  /** Failure from the current `errno`. Call right after the failing syscall. */
  static NativeStatus FromErrno(const char* syscall, std::string message);

  bool ok() const { return code_ == 0; }
  /** 0 or a negative errno. */
  int code() const { return code_; }
  const char* syscall() const { return syscall_; }
  const std::string& message() const { return message_; }

#ifndef DROIDWAY_NATIVE_NO_NAPI
  /** Builds the JS Error (`code` = errno name, `errno` = negative value, `syscall`). */
  Napi::Error ToJsError(Napi::Env env) const;
  /** Throws ToJsError() as a C++ exception when this is a failure; no-op on success. */
  void ThrowIfError(Napi::Env env) const;
#endif

 private:
  NativeStatus(int code, const char* syscall, std::string message)
      : code_(code), syscall_(syscall), message_(std::move(message)) {}

  int code_ = 0;
  const char* syscall_ = "";
  std::string message_;
};

/** The errno name for a positive errno (`EPERM`), or `E<number>` when glibc does not know it. */
std::string ErrnoName(int positive_errno);

}  // namespace droidway

#endif  // DROIDWAY_NATIVE_NATIVE_ERROR_H_
