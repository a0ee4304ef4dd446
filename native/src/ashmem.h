// Named, fixed-size shared-memory regions with Android's ashmem semantics: the legacy
// /dev/ashmem driver where the host has it, else a sealed memfd as AOSP's libcutils uses on
// current kernels.
#ifndef DROIDWAY_NATIVE_ASHMEM_H_
#define DROIDWAY_NATIVE_ASHMEM_H_

#ifndef DROIDWAY_NATIVE_NO_NAPI  // the bridge process builds the core without Node
#include <napi.h>
#endif

#include <cstdint>
#include <string>

#include "native_error.h"
#include "unique_fd.h"

namespace droidway {

/** Which kernel mechanism backs a region. */
enum class AshmemBackend { kAshmem, kMemfd };

/** Which backend a caller asks for. */
enum class AshmemBackendChoice { kAuto, kAshmem, kMemfd };

/** Creation, read-only sealing and sizing of ashmem regions; stateless. */
class Ashmem {
 public:
  /** memfd names are limited to NAME_MAX minus the "memfd:" prefix the kernel adds. */
  static constexpr size_t kMaxNameBytes = 249;
  /** Largest region accepted (1 TiB): far beyond any buffer, well inside off_t and size_t. */
  static constexpr uint64_t kMaxSize = uint64_t{1} << 40;

  /**
   * Creates a region named `name` of exactly `size` bytes. On success `*out` owns the new
   * O_CLOEXEC fd and `*backend` says what backs it. `name` must already be valid (1..249 bytes,
   * no NUL or '/'); `size` in 1..kMaxSize.
   */
  static NativeStatus Create(const std::string& name, uint64_t size, AshmemBackendChoice choice,
                             UniqueFd* out, AshmemBackend* backend);
  /** Restricts every future mapping to PROT_READ (F_SEAL_FUTURE_WRITE / ASHMEM_SET_PROT_MASK). */
  static NativeStatus SetReadOnly(int fd);
  /** Region size: ASHMEM_GET_SIZE on /dev/ashmem, st_size of a regular file otherwise. */
  static NativeStatus GetSize(int fd, uint64_t* size);
  /** Whether /dev/ashmem exists and opens read-write. */
  static bool DeviceAvailable();
  /** Whether `fd` is the /dev/ashmem character device (same st_rdev). */
  static NativeStatus IsAshmemFd(int fd, bool* is_ashmem);
  /** Size of an fd already known to be /dev/ashmem. */
  static NativeStatus AshmemDeviceSize(int fd, uint64_t* size);

  /** Adds ashmemCreate, ashmemSetReadOnly, ashmemGetSize, ashmemDeviceAvailable to `exports`. */
#ifndef DROIDWAY_NATIVE_NO_NAPI
  static void Register(Napi::Env env, Napi::Object exports);
#endif
};

}  // namespace droidway

#endif  // DROIDWAY_NATIVE_ASHMEM_H_
