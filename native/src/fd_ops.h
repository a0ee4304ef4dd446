// Plain fd and process operations the JS side needs next to the others: close with a checked
// result, ftruncate (to show that a sealed region refuses resizing), and what a privileged helper
// that goes on as a session host needs to leave its caller: a session of its own and stdio that
// is no longer the caller's.
#ifndef DROIDWAY_NATIVE_FD_OPS_H_
#define DROIDWAY_NATIVE_FD_OPS_H_

#include <napi.h>

#include <cstdint>

#include "native_error.h"

namespace droidway {

/** close() and ftruncate() with the module's error convention. */
class FdOps {
 public:
  /** close(fd); EINTR counts as closed (Linux releases the fd before reporting it). */
  static NativeStatus Close(int fd);
  /** ftruncate(fd, size). */
  static NativeStatus Truncate(int fd, uint64_t size);
  /** setsid(): a session and process group of this process's own, no controlling terminal. */
  static NativeStatus NewSession();
  /** stdin from /dev/null, stdout and stderr onto `out_fd` (dup2; `out_fd` stays open). */
  static NativeStatus ReplaceStdio(int out_fd);

  /** Adds closeFd, truncateFd, newSession and replaceStdio to `exports`. */
  static void Register(Napi::Env env, Napi::Object exports);
};

}  // namespace droidway

#endif  // DROIDWAY_NATIVE_FD_OPS_H_
