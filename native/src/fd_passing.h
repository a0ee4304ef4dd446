// Unix-socket fd passing (SCM_RIGHTS), socket pairs and peer credentials. Send and receive block,
// so their JS entry points run them in AsyncWorkers on the libuv thread pool; each call holds one
// pool thread for at most its timeout.
#ifndef DROIDWAY_NATIVE_FD_PASSING_H_
#define DROIDWAY_NATIVE_FD_PASSING_H_

#include <napi.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "native_error.h"
#include "unique_fd.h"

namespace droidway {

/** One received message. Owns its fds until the caller releases them. */
struct FdMessage {
  std::vector<uint8_t> data;
  std::vector<UniqueFd> fds;
  /** fds that arrived beyond the caller's limit and were closed. */
  uint32_t fds_dropped = 0;
  bool control_truncated = false;
  bool data_truncated = false;
};

/** Sending and receiving data with fds over AF_UNIX sockets. Thread-safe, stateless. */
class FdPassing {
 public:
  /** The kernel's SCM_MAX_FD: the most fds one message can carry. */
  static constexpr size_t kMaxFdsPerMessage = 253;
  /** Largest payload accepted per call. */
  static constexpr size_t kMaxMessageBytes = 64 * 1024;

  /**
   * Sends all of `data` (non-empty) with `fds` attached to its first byte, waiting at most
   * `timeout_ms` in total for the socket to accept it. `*sent` counts the bytes sent, also when
   * a stream send times out half-way.
   */
  static NativeStatus Send(int socket_fd, const std::vector<uint8_t>& data,
                           const std::vector<int>& fds, int timeout_ms, size_t* sent);
  /**
   * Receives one message of up to `max_bytes` bytes. Every fd the kernel delivers is taken
   * (MSG_CMSG_CLOEXEC): the first `max_fds` go to `out->fds`, the rest are closed and counted.
   * Fails with -ETIMEDOUT when nothing arrives within `timeout_ms`. On any failure no received
   * fd stays open.
   */
  static NativeStatus Receive(int socket_fd, size_t max_bytes, size_t max_fds, int timeout_ms,
                              FdMessage* out);
  /** socketpair(AF_UNIX, type | SOCK_CLOEXEC). */
  static NativeStatus SocketPair(int type, UniqueFd* first, UniqueFd* second);
  /** getsockopt(SO_PEERCRED). */
  static NativeStatus PeerCredentials(int socket_fd, struct ucred* credentials);

  /** Adds socketPair, sendMessage, recvMessage and peerCredentials to `exports`. */
  static void Register(Napi::Env env, Napi::Object exports);
};

}  // namespace droidway

#endif  // DROIDWAY_NATIVE_FD_PASSING_H_
