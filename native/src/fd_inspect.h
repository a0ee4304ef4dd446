// Classification of an fd for the display bridge's buffer checks: what it is (memfd, ashmem,
// dmabuf, file, socket, pipe, other), its size, seals, filesystem and access mode.
#ifndef DROIDWAY_NATIVE_FD_INSPECT_H_
#define DROIDWAY_NATIVE_FD_INSPECT_H_

#ifndef DROIDWAY_NATIVE_NO_NAPI  // the bridge process builds the core without Node
#include <napi.h>
#endif

#include <cstdint>
#include <string>
#include <vector>

#include "native_error.h"

namespace droidway {

/** What FdInspect::Inspect learned about one fd. */
struct FdInfo {
  /** 'memfd', 'ashmem', 'dmabuf', 'file', 'socket', 'pipe' or 'other'. */
  std::string kind;
  uint64_t size = 0;
  /** False when F_GET_SEALS is not supported for this fd. */
  bool has_seals = false;
  /** Seal names in bit order ('seal', 'shrink', 'grow', 'write', 'future-write', 'exec'). */
  std::vector<std::string> seals;
  std::string fs_type;
  uint64_t fs_magic = 0;
  std::string link;
  uint32_t mode = 0;
  /** 'r', 'w' or 'rw'. */
  std::string access;
};

/** Inspects fds without changing them (except a dmabuf's file position, see Inspect). */
class FdInspect {
 public:
  /**
   * Fills `*info` for `fd`. A dmabuf is sized with lseek(SEEK_END), which moves its (otherwise
   * unused) file position, as the Wayland linux-dmabuf protocol prescribes.
   */
  static NativeStatus Inspect(int fd, FdInfo* info);
  /** Name for an fstatfs f_type ('tmpfs', 'ext4', …) or '0x…' when unknown. */
  static std::string FsTypeName(uint64_t magic);
  /** Target of /proc/self/fd/<fd>. */
  static NativeStatus ReadFdLink(int fd, std::string* link);

  /** Adds inspectFd to `exports`. */
#ifndef DROIDWAY_NATIVE_NO_NAPI
  static void Register(Napi::Env env, Napi::Object exports);
#endif
};

}  // namespace droidway

#endif  // DROIDWAY_NATIVE_FD_INSPECT_H_
