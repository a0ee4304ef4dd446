// The wire-level fast path of one guest connection. The bridge accepts the guest's socket
// itself and gives libwayland-server one end of a socketpair instead; this class pumps bytes
// between the two:
// - guest → bridge: it reads the guest's socket, and relays the hot, fd-free requests of
//   wl_surface (attach, damage, damage_buffer, commit, frame) and wl_display.sync straight to
//   the host socket, after the same RelayObject::CheckRequest / AfterRequest (and object cap)
//   the generic path runs, without libwayland's per-message closures. The objects frame and
//   sync make are made as the generic path makes them, for ids libwayland-server would take
//   (BridgeClient::NewIdFree); their host proxies get ids from libwayland-client
//   (wl_proxy_create) without a request, which the fast path writes itself. Every other message —
//   and every case it is not sure of (an unknown or foreign object, a wrong interface or size, fds,
//   a partial or malformed message) — goes through the socketpair to libwayland-server unchanged,
//   in order, and is dispatched by the generic relay as before.
// - bridge → guest: events libwayland-server writes into the socketpair, with their fds, are
//   copied to the guest's socket in order.
// Ordering: a fast message goes to the host only when every earlier byte of the guest was read
// and dispatched by libwayland-server (the socketpair is drained) and libwayland-client's output
// for this host connection is flushed; otherwise it takes the slow path too.
#ifndef DROIDWAY_NATIVE_BRIDGE_WIRE_FASTPATH_H_
#define DROIDWAY_NATIVE_BRIDGE_WIRE_FASTPATH_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "../native_error.h"
#include "../unique_fd.h"

struct wl_event_loop;
struct wl_event_source;

namespace droidway {
namespace bridge {

class BridgeClient;

class WireFastPath {
 public:
  /**
   * Takes the accepted guest socket `guest` and makes the socketpair; `*server_end` is the end
   * to give libwayland-server (wl_client_create owns it from then on).
   */
  static NativeStatus Create(wl_event_loop* loop, UniqueFd guest, int* server_end,
                             std::unique_ptr<WireFastPath>* out);
  ~WireFastPath();

  /** Starts pumping for `owner`, the BridgeClient of the wl_client made on the server end. */
  NativeStatus Start(BridgeClient* owner);
  /** Stops (or resumes) reading the guest's socket (its host connection is blocked). */
  void SetPaused(bool paused);
  /**
   * The client is being destroyed: whatever libwayland-server still has for the guest (a
   * protocol error) is flushed to it, best effort, and the guest's socket closed.
   */
  void Close();

  /**
   * Writes what libwayland-server holds for the guest to it now (after host events were
   * relayed), rather than at the loop's next flush and wakeup.
   */
  void FlushEvents();

  /**
   * Sends the fd-free event `message` (whole, `size` bytes) to the guest after everything
   * libwayland-server has for it, which is flushed first; false (nothing sent) when
   * libwayland-server could not hand all of it on, or the guest is gone.
   */
  bool InjectEvent(const uint8_t* message, size_t size);

  /** Messages relayed by the fast path so far (for tests and benchmarks). */
  uint64_t fast_messages() const { return fast_messages_; }
  /** Events written to the guest by InjectEvent so far. */
  uint64_t fast_events() const { return fast_events_; }

 private:
  WireFastPath(wl_event_loop* loop, UniqueFd guest, UniqueFd peer);

  void OnGuest(uint32_t mask);
  void OnPeer(uint32_t mask);
  /** Reads the guest once; false when the guest is gone. */
  bool ReadGuest();
  /** Splits what was read into fast and slow messages. */
  void Process();
  /** Relays one whole message by the fast path; false when it must take the slow path. */
  bool TryFast(const uint8_t* message, uint32_t size);
  /** Relays wl_display.sync `callback_id` by the fast path; false: the slow path takes it. */
  bool TrySync(uint32_t callback_id);
  /** Makes room for `size` more fast bytes in this read; false: the slow path takes it. */
  bool FastRoom(uint32_t size);
  /** Whether fast messages may be sent to the host now (see the file comment). */
  bool HostReady();
  /** Sends the translated fast messages to the host in one all-or-nothing write. */
  bool SendFast();
  /** Writes pending slow bytes (and fds) to the socketpair; false on a hard error. */
  bool WriteSlow();
  /** Whether libwayland-server has read every slow byte written so far. */
  bool SlowDrained();
  /** Copies events from the socketpair to the guest. */
  void PumpEvents();
  bool WriteGuest();
  void GuestGone();
  void UpdateMasks();

  static int GuestThunk(int fd, uint32_t mask, void* data);
  static int PeerThunk(int fd, uint32_t mask, void* data);

  wl_event_loop* loop_;
  UniqueFd guest_;
  UniqueFd peer_;  // the bridge's end of the socketpair
  BridgeClient* owner_ = nullptr;
  wl_event_source* guest_source_ = nullptr;
  wl_event_source* peer_source_ = nullptr;
  uint32_t guest_mask_ = 1;  // WL_EVENT_READABLE, as Start adds them
  uint32_t peer_mask_ = 1;

  // Guest → bridge: bytes read and not yet classified (a partial message at most, between
  // reads), and fds not yet handed to libwayland-server.
  std::vector<uint8_t> in_;
  size_t in_len_ = 0;
  std::vector<int> in_fds_;
  // Slow bytes (and their fds) not yet accepted by the socketpair.
  std::vector<uint8_t> slow_;
  std::vector<int> slow_fds_;
  // Slow bytes were written that libwayland-server may not have dispatched yet.
  bool slow_outstanding_ = false;
  // Something could not be parsed: everything goes the slow way from now on.
  bool passthrough_ = false;
  bool paused_ = false;
  bool guest_gone_ = false;

  // Fast messages of the current read, translated for the host.
  uint8_t fast_[4096];
  size_t fast_len_ = 0;
  size_t fast_budget_ = 0;  // bytes the host socket may still take in this read
  int host_ready_ = -1;     // -1: not asked yet in this read
  int host_sndbuf_ = 0;

  // Bridge → guest: event bytes (and fds) the guest's socket did not take yet.
  std::vector<uint8_t> out_;
  std::vector<int> out_fds_;

  uint64_t fast_messages_ = 0;
  uint64_t fast_events_ = 0;
};

}  // namespace bridge
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_BRIDGE_WIRE_FASTPATH_H_
