// One libwayland-client connection to the host compositor, with the bounded, cancellable waits
// the bridge thread needs (it must never block forever on the host, and stop() must always win).
//
// The bridge owns the host's socket; libwayland-client gets one end of a socket pair. Host bytes
// (and their fds) are read by the bridge, checked whole message by whole message, and handed to
// libwayland in groups it reads at once and dispatches before the next group is checked:
// libwayland-client makes the proxies of a batch's new objects before it has looked up the
// objects the batch names, and a failed look-up (or a wl_display.error) leaves those proxies
// made and never dispatched. So a group ends after every event that can make an object, and
// what would fail libwayland's read is caught before it: a wl_display.error (taken, with its
// text), an event naming a host object the bridge destroyed, a malformed message, too many fds.
// Requests go the other way unchecked (libwayland-client wrote them), with their fds.
#ifndef DROIDWAY_NATIVE_BRIDGE_HOST_CONNECTION_H_
#define DROIDWAY_NATIVE_BRIDGE_HOST_CONNECTION_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

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
  /** The host compositor's socket: poll it, and write it only after a Flush left nothing. */
  int fd() const { return host_.get(); }

  /**
   * Sends wl_display.sync and dispatches events until the host answers it. Fails with
   * -ETIMEDOUT after `timeout_ms`, with -ECANCELED as soon as `wake_fd` becomes readable (the
   * bridge is stopping), or with the connection's error.
   */
  NativeStatus Roundtrip(int wake_fd, int timeout_ms);
  /**
   * Reads what the host's socket holds and dispatches it, group by group (see the file
   * comment); never blocks. Fails with -EPROTO, handing libwayland nothing more, at a
   * wl_display.error (GetProtocolError has it), at an event naming a host object the bridge
   * destroyed (TakeDeadReference), at a malformed message or at fds libwayland could not take;
   * with libwayland's error when the host hung up. Roundtrip reads the same way.
   */
  NativeStatus DispatchReadable();
  /** Dispatches events already queued, without reading. */
  NativeStatus DispatchPending();
  /**
   * Flushes requests to the host; `*blocked` is true when the host's socket is full (poll fd()
   * for writing and call again). Not blocked means every request made so far was written to the
   * host. A connection libwayland has marked failed (wl_display_get_error: it also reports
   * EAGAIN when a request could not be queued because the buffer was full) is an error, never
   * "blocked".
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
   * libwayland reads them, for the objects they name (TakeDeadReference) and make (a group
   * ends after such an event). Every proxy whose events make objects must be watched, and
   * unwatched when it is destroyed. `interface` must outlive the watch.
   */
  void WatchEvents(uint32_t id, const wl_interface* interface);
  void UnwatchEvents(uint32_t id);
  /**
   * The bridge destroyed its proxy of the object `id`: when the host made it (a server id),
   * until the host makes an object of that id again, a watched event naming it would fail
   * libwayland's read. Client ids are ignored (libwayland keeps a zombie for them).
   */
  void ServerObjectDestroyed(uint32_t id);
  /** Nullable arguments naming a destroyed host object that were made null (for tests). */
  uint64_t nulled() const { return nulled_; }

  /**
   * Takes an event of the host object `object` (`message`, whole, `size` bytes, no fds) before
   * libwayland reads it; false leaves it to libwayland. Called only when every host event
   * before it has been dispatched, so whatever the bridge made of those was posted first.
   */
  using EventHook = bool (*)(void* data, const uint8_t* message, size_t size);
  /**
   * `hook` sees the events of the host object `id` (an fd-free interface) that start a group
   * (see the file comment) until UnhookEvents; `data` must live as long.
   */
  void HookEvents(uint32_t id, EventHook hook, void* data);
  void UnhookEvents(uint32_t id);

 private:
  HostConnection(wl_display* display, UniqueFd host, UniqueFd pair);
  static NativeStatus Adopt(UniqueFd fd, const std::string& socket_path,
                            std::unique_ptr<HostConnection>* out);
  NativeStatus ConnectionError(const char* what) const;
  /** Ends the connection with the bridge's own finding `text`: -EPROTO, ErrorText says it. */
  NativeStatus Refuse(std::string text);
  /**
   * Whether `message` (whole, `size` bytes) is a well-formed wl_display.error; if so, keeps it
   * as the connection's error (libwayland never reads it).
   */
  bool TakeError(const uint8_t* message, size_t size);
  /**
   * Whether the watched event `message` (whole, `size` bytes, of `interface`) names a
   * destroyed host object in an argument that must name one (described in `*what`); a nullable
   * argument naming one is made null in place. Forgets the destroyed ids it makes again.
   * `*makes` tells whether it makes an object, or could not be read through (then it is left
   * to libwayland, last in its group).
   */
  bool TakeDeadReference(const wl_interface* interface, uint8_t* message, size_t size,
                         std::string* what, bool* makes);
  /**
   * Reads the host's socket once into the bytes waiting; ok with nothing read on EAGAIN.
   * `*more`: the read may have left bytes (it filled the buffer or stopped after fds).
   */
  NativeStatus ReadHost(bool* more);
  /** Checks and hands on every group of whole messages waiting (see the file comment). */
  NativeStatus Deliver();
  /** Writes the first `size` bytes waiting (and fds) to libwayland and has it dispatch them. */
  NativeStatus HandOn(size_t size);
  /** Moves libwayland's requests to the host until its socket is full; ok when blocked. */
  NativeStatus PumpOut();
  /**
   * Reads and dispatches what libwayland holds of the bytes handed on; `split`: they were
   * written in more than one part (then read until none is left).
   */
  NativeStatus ReadHandedOn(bool split);

  wl_display* display_;
  UniqueFd host_;  // the host compositor's socket
  UniqueFd pair_;  // the bridge's end of libwayland-client's socket pair
  // Host → libwayland: bytes read and not yet handed on (a partial message between reads, or
  // whole ones past a group), and the fds read with them.
  std::vector<uint8_t> in_;
  size_t in_len_ = 0;
  std::vector<int> in_fds_;
  bool host_hung_up_ = false;
  // Libwayland → host: bytes read from the pair that the host's socket did not take yet (the
  // first out_sent_ of out_len_ went), with the fds read with them.
  std::vector<uint8_t> out_;
  size_t out_len_ = 0;
  size_t out_sent_ = 0;
  std::vector<int> out_fds_;
  // libwayland may have written to the pair since the bridge last read it empty.
  bool pair_unread_ = false;
  bool taken_error_ = false;
  ProtocolError taken_;
  std::unordered_map<uint32_t, const wl_interface*> watched_;
  struct Hook {
    EventHook hook;
    void* data;
  };
  std::unordered_map<uint32_t, Hook> hooked_;
  std::unordered_set<uint32_t> destroyed_;
  uint64_t nulled_ = 0;
  // What the bridge found and ended the connection for (a dead reference, a malformed message).
  std::string refused_;
};

}  // namespace bridge
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_BRIDGE_HOST_CONNECTION_H_
