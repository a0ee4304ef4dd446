// One libwayland-client connection to the host compositor, with the bounded, cancellable waits
// the bridge thread needs (it must never block forever on the host, and stop() must always win).
#ifndef DROIDWAY_NATIVE_BRIDGE_HOST_CONNECTION_H_
#define DROIDWAY_NATIVE_BRIDGE_HOST_CONNECTION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "../native_error.h"
#include "../unique_fd.h"

struct wl_display;
struct wl_interface;

namespace droidway {
namespace bridge {

/** Owns a client wl_display connected to the host compositor's socket. */
class HostConnection {
 public:
  /**
   * Hands out a stream socket already connected to the host compositor (the bridge process's
   * connector, which can reach a socket the sandboxed bridge could no longer open).
   */
  using Connector = std::function<NativeStatus(UniqueFd* out)>;

  /**
   * Connects to the compositor socket at the absolute `socket_path`, or takes the socket from
   * `connector` when one is given. The socket is connected here (not through wl_display_connect),
   * so a WAYLAND_SOCKET in the environment is never consumed by mistake.
   */
  static NativeStatus Connect(const std::string& socket_path, std::unique_ptr<HostConnection>* out,
                              const Connector& connector = nullptr);
  ~HostConnection();

  HostConnection(const HostConnection&) = delete;
  HostConnection& operator=(const HostConnection&) = delete;

  wl_display* display() const { return display_; }
  /** The connection's socket fd (owned by the wl_display). */
  int fd() const;

  /**
   * Sends wl_display.sync and dispatches events until the host answers it. Fails with
   * -ETIMEDOUT after `timeout_ms`, with -ECANCELED as soon as `wake_fd` becomes readable (the
   * bridge is stopping), or with the connection's error.
   */
  NativeStatus Roundtrip(int wake_fd, int timeout_ms);
  /**
   * Reads what the socket holds (it must be readable) and dispatches it; never blocks. When
   * the bytes waiting end with a wl_display.error, fails with -EPROTO without handing them to
   * libwayland (see TakeTrailingError); when they hold an event naming an object the bridge has
   * destroyed, fails with -EPROTO too (see TakeDeadReference). Roundtrip reads the same way.
   */
  NativeStatus DispatchReadable();
  /** Dispatches events already queued, without reading. */
  NativeStatus DispatchPending();
  /**
   * Flushes requests; `*blocked` is true when the socket buffer is full (try again later). A
   * connection libwayland has marked failed (wl_display_get_error: it also reports EAGAIN when a
   * request could not be queued because the buffer was full) is an error, never "blocked".
   */
  NativeStatus Flush(bool* blocked);
  /** Describes the connection's fatal error (a protocol error names the object and the text). */
  std::string ErrorText() const;

  /** A protocol error the host sent on this connection. */
  struct ProtocolError {
    uint32_t code = 0;
    /** The interface name of the object the host named ("" when unknown). */
    std::string interface;
    uint32_t id = 0;
    /** The host's own text, when libwayland reported it ("" otherwise). */
    std::string message;
  };
  /** Whether the connection ended with a protocol error from the host; fills `*out`. */
  bool GetProtocolError(ProtocolError* out) const;

  /**
   * The events of the host object `id` (a proxy of `interface`) are read by the bridge before
   * libwayland reads them, for the objects they name (TakeDeadReference). `interface` must
   * outlive the watch.
   */
  void WatchEvents(uint32_t id, const wl_interface* interface);
  void UnwatchEvents(uint32_t id);
  /**
   * The bridge destroyed its proxy of the host-made object `id` (a server id): until the host
   * makes an object of that id again, a watched event naming it would fail libwayland's read.
   */
  void ServerObjectDestroyed(uint32_t id);
  /**
   * The host made an object of id `id` again (its proxy was dispatched): it is named freely. The
   * peek takes such ids off the list itself; this covers bytes libwayland read unpeeked.
   */
  void ServerObjectMade(uint32_t id) { destroyed_.erase(id); }

 private:
  explicit HostConnection(wl_display* display) : display_(display) {}
  static NativeStatus Adopt(UniqueFd fd, const std::string& socket_path,
                            std::unique_ptr<HostConnection>* out);
  NativeStatus ConnectionError(const char* what) const;
  /**
   * Whether the bytes waiting on the socket end with a wl_display.error; if so, keeps it as
   * the connection's error (libwayland never reads that batch).
   */
  bool TakeTrailingError(const uint8_t* bytes, size_t total);
  /**
   * Whether the whole messages of the bytes waiting hold a watched event naming a destroyed
   * host object (before any event of the same bytes makes an object of that id again); if so,
   * describes it in `*what`. Forgets the destroyed ids the bytes make again.
   */
  bool TakeDeadReference(const uint8_t* bytes, size_t total, std::string* what);
  /**
   * Peeks at the bytes waiting, once, before libwayland reads them (the read is prepared):
   * an error to end the connection with instead of reading them (TakeTrailingError,
   * TakeDeadReference), or ok.
   */
  NativeStatus CheckWaiting();

  wl_display* display_;
  bool taken_error_ = false;
  ProtocolError taken_;
  std::unordered_map<uint32_t, const wl_interface*> watched_;
  std::unordered_set<uint32_t> destroyed_;
  // What TakeDeadReference found, once it ended the connection.
  std::string dead_reference_;
};

}  // namespace bridge
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_BRIDGE_HOST_CONNECTION_H_
