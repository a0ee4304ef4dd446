// The clipboard relay: the checks the generic relay applies to wl_data_device_manager and its
// objects (wl_data_device, wl_data_source, wl_data_offer), and the bridge-side copies of the
// bytes. The guest never gets a host pipe nor the host a guest pipe: each transfer runs through
// a pipe of the bridge's own, copied non-blocking on the bridge loop, bounded by the size cap
// and an idle deadline. Drag-and-drop is not relayed.
#ifndef DROIDWAY_NATIVE_BRIDGE_DATA_DEVICE_RELAY_H_
#define DROIDWAY_NATIVE_BRIDGE_DATA_DEVICE_RELAY_H_

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "../unique_fd.h"

struct wl_event_loop;
union wl_argument;

namespace droidway {
namespace bridge {

class BridgeClient;
class RelayObject;
class ClipboardTransfer;

/** Which way selections may travel (policy `bridge.clipboard.mode`). */
enum class ClipboardMode {
  /** wl_data_device_manager is not offered to the guest. */
  kOff,
  /** The guest may paste what the host copied; its own selections stay inside. */
  kHostToGuest,
  /** Both ways. */
  kBoth,
};

/** What a bridge does with the clipboard. */
struct ClipboardConfig {
  ClipboardMode mode = ClipboardMode::kOff;
  /** MIME types that may cross, compared exactly; every other type is never offered. */
  std::vector<std::string> mime_types;
  /** Bytes of one transfer; the rest is cut (the reader sees end of file). */
  uint64_t max_bytes = 16 << 20;
};

/** Longest MIME type string the bridge accepts (RFC 6838 names are at most 127+1+127). */
constexpr size_t kClipboardMaxMimeLength = 255;
/** Most MIME types in the allow-list. */
constexpr size_t kClipboardMaxMimeTypes = 32;
/** Bounds of `max_bytes`. */
constexpr uint64_t kClipboardMinBytes = 1;
constexpr uint64_t kClipboardMaxBytes = uint64_t{1} << 30;

/**
 * Parses a mode name ('off', 'host-to-guest', 'both'); false when unknown.
 */
bool ParseClipboardMode(const std::string& name, ClipboardMode* out);
/** The name of `mode`. */
const char* ClipboardModeName(ClipboardMode mode);
/** Whether `mime` is a printable ASCII MIME type string the allow-list may hold. */
bool ValidClipboardMime(const std::string& mime);

/** One guest client's clipboard state: focus, offered types, running transfers. */
class DataDeviceRelay {
 public:
  explicit DataDeviceRelay(BridgeClient* owner);
  ~DataDeviceRelay();
  DataDeviceRelay(const DataDeviceRelay&) = delete;
  DataDeviceRelay& operator=(const DataDeviceRelay&) = delete;

  /**
   * A guest request on a data-device object, before it is forwarded. Returns false when it is
   * not forwarded (refused with the error posted, or dropped on purpose). May replace an fd
   * argument with one of the bridge's own.
   */
  bool CheckRequest(RelayObject* object, uint32_t opcode, wl_argument* args);
  /**
   * A host event on a data-device object, before it is posted to the guest as `out`. Returns
   * false when it is dropped. An fd the bridge puts into `out` is held in `hold` until posted.
   */
  bool FilterEvent(RelayObject* object, uint32_t opcode, wl_argument* args, wl_argument* out,
                   UniqueFd* hold);
  /**
   * Keyboard `keyboard` of the guest got (enter) or lost (leave) focus. The guest has focus
   * while any of its keyboards has.
   */
  void KeyboardFocus(RelayObject* keyboard, bool entered);
  /** The relay object (a data-device object or a keyboard) is going away. */
  void Forget(RelayObject* object);
  /** A transfer ended (called by the transfer, which is then deleted). */
  void TransferDone(ClipboardTransfer* transfer);
  /** fds held by running transfers. */
  int fds() const { return static_cast<int>(transfers_.size()) * 2; }

 private:
  bool Allowed(const char* mime) const;
  bool StartTransfer(int from, int to, const char* what);
  void ClearGuestSelection();

  BridgeClient* owner_;
  // wl_data_offer → the allowed types the host offered; wl_data_source → the types offered.
  std::unordered_map<RelayObject*, std::vector<std::string>> types_;
  std::vector<RelayObject*> devices_;
  // The host's current selection offer (relayed to the guest only while it has focus).
  RelayObject* selection_ = nullptr;
  // Keyboards that got enter and neither leave nor destruction since.
  std::vector<RelayObject*> focused_;
  // set_selection requests in the current one-second window.
  int64_t window_start_ms_ = 0;
  uint32_t selections_in_window_ = 0;
  std::vector<std::unique_ptr<ClipboardTransfer>> transfers_;
};

}  // namespace bridge
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_BRIDGE_DATA_DEVICE_RELAY_H_
