// The keymap a guest receives with wl_keyboard.keymap: never the host's own fd (one file the
// compositor may share between its clients, and writable for all the bridge knows), but a copy
// the bridge made, sealed against every change (see keymap_copy.cc for why the seal is
// F_SEAL_FUTURE_WRITE and the fd the memfd's own).
#ifndef DROIDWAY_NATIVE_BRIDGE_KEYMAP_COPY_H_
#define DROIDWAY_NATIVE_BRIDGE_KEYMAP_COPY_H_

#include <cstdint>

#include "../native_error.h"
#include "../unique_fd.h"

namespace droidway {
namespace bridge {

/** Stateless: makes the guest's keymap fd. */
class KeymapCopy {
 public:
  /** Largest keymap passed on (xkbcommon's full keymaps are about 60 KiB). */
  static constexpr uint32_t kMaxBytes = 1024 * 1024;

  /**
   * Reads `size` bytes (1..kMaxBytes) of the host's keymap `host_fd` with pread, writes them to a
   * new memfd sealed with F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL, and
   * returns it in `*out`. Opens no file: it runs inside the bridge process's sandbox.
   */
  static NativeStatus Make(int host_fd, uint32_t size, UniqueFd* out);
};

}  // namespace bridge
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_BRIDGE_KEYMAP_COPY_H_
