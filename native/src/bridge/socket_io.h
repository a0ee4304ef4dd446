// Reads and writes of a Unix stream socket with the fds a Wayland connection carries, as
// libwayland does them: never blocking, at most libwayland's 28 fds a message.
#ifndef DROIDWAY_NATIVE_BRIDGE_SOCKET_IO_H_
#define DROIDWAY_NATIVE_BRIDGE_SOCKET_IO_H_

#include <sys/types.h>

#include <cstddef>
#include <vector>

namespace droidway {
namespace bridge {

/**
 * libwayland's MAX_FDS_OUT: the fds one recvmsg of libwayland takes (the kernel closes the
 * rest), and the most one of its sendmsg calls carries.
 */
constexpr size_t kMaxFdsPerMessage = 28;

/**
 * Reads once into `data`, appending the fds that came with the bytes to `*fds` (close-on-exec).
 * `*truncated`, when given, tells whether the kernel cut fds off (more than kMaxFdsPerMessage).
 * Returns what recvmsg returned (errno set on -1; EINTR retried).
 */
ssize_t RecvWithFds(int fd, void* data, size_t size, std::vector<int>* fds,
                    bool* truncated = nullptr);
/**
 * Writes once from `data`, with the first `max_fds` of `fds` (the caller closes its copies of
 * those once some bytes were taken). Returns what sendmsg returned. `max_fds` is more than
 * kMaxFdsPerMessage only where a test plays a peer that sends more than libwayland takes; at
 * most kMaxFdsForTests.
 */
constexpr size_t kMaxFdsForTests = 32;
ssize_t SendWithFds(int fd, const void* data, size_t size, const std::vector<int>& fds,
                    size_t max_fds = kMaxFdsPerMessage);
/** Closes every fd of `*fds` and empties it. */
void CloseAll(std::vector<int>* fds);
/** Closes the fds of `*fds` a SendWithFds carried (its first kMaxFdsPerMessage) and drops them. */
void CloseSent(std::vector<int>* fds);

}  // namespace bridge
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_BRIDGE_SOCKET_IO_H_
