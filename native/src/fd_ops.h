// Plain fd operations the JS side needs next to the others: close with a checked result, and
// ftruncate (to show that a sealed region refuses resizing).
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

  /** Adds closeFd and truncateFd to `exports`. */
  static void Register(Napi::Env env, Napi::Object exports);
};

}  // namespace droidway

#endif  // DROIDWAY_NATIVE_FD_OPS_H_
