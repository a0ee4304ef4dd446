// The fds a fuzz input can attach: one byte picks an entry of a small menu of the kinds a hostile
// guest can send (sealed, unsealed and short memfds, a pipe, a socket, a regular file, a
// directory, and a dmabuf-like fd: a memfd sized for a plane, as there is no DRM here).
#ifndef DROIDWAY_NATIVE_FUZZ_FD_MENU_H_
#define DROIDWAY_NATIVE_FUZZ_FD_MENU_H_

#include <cstdint>

namespace droidway {
namespace fuzz {

/** Number of menu entries (a selector byte is taken modulo this). */
constexpr int kFdMenuSize = 8;
/** Size of the memfds of the menu, but the short one. */
constexpr int64_t kFdMenuPoolBytes = 64 * 1024;

/** A new fd of kind `selector % kFdMenuSize` (the caller closes it), or -1 if it failed. */
int MakeMenuFd(uint8_t selector);

}  // namespace fuzz
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_FUZZ_FD_MENU_H_
