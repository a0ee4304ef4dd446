// One guest object and its host twin. Requests from the guest resource are checked by the
// relay's policy hooks and forwarded to the host proxy (object arguments translated, new objects
// paired); events from the host proxy are forwarded back the same way. The generic path works
// from the protocol's message signatures, so every interface of an allowed global is relayed
// without hand-written glue, and the hooks only add the checks.
#ifndef DROIDWAY_NATIVE_BRIDGE_RELAY_OBJECT_H_
#define DROIDWAY_NATIVE_BRIDGE_RELAY_OBJECT_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "../unique_fd.h"
#include "dmabuf_policy.h"
#include "shm_copy.h"

struct wl_callback;
struct wl_interface;
struct wl_message;
struct wl_proxy;
struct wl_resource;
union wl_argument;

namespace droidway {
namespace bridge {

class BridgeClient;

/** What the relay tracks about an object beyond forwarding it. */
enum class RelayKind {
  kOther,
  kShm,
  kSurface,
  kShmPool,
  kShmBuffer,  // any wl_buffer (shm or dma-buf): counted against max_buffers
  kXdgSurface,
  kXdgToplevel,
  kDmabufParams,
  kRegion,
  kKeyboard,
  kDataDevice,  // wl_data_device, wl_data_source, wl_data_offer: see DataDeviceRelay
  kDataSource,
  kDataOffer,
  kTablet,            // zwp_tablet_v2: its path event is dropped
  kTabletPad,         // zwp_tablet_pad_v2: the same, and its feedback string sanitized
  kTabletPadControl,  // zwp_tablet_pad_ring_v2, zwp_tablet_pad_strip_v2: feedback sanitized
};

/** A guest wl_resource paired with a host wl_proxy. */
class RelayObject {
 public:
  /** One argument of a message signature: its type letter and whether it may be null. */
  struct ArgSpec {
    char type;
    bool nullable;
  };

  /**
   * Creates the guest resource `id` (0: a server-allocated id, for objects the host creates in
   * an event) of `interface` at `version`, owned by `owner`, counted against its limits. Returns
   * nullptr after posting the error when a limit is reached or memory runs out.
   */
  static RelayObject* Create(BridgeClient* owner, const wl_interface* interface, uint32_t version,
                             uint32_t id);
  /** The relay object of a guest resource, or nullptr when the resource is not relayed. */
  static RelayObject* FromResource(wl_resource* resource);
  /** The relay object of a host proxy, or nullptr when the proxy is not relayed. */
  static RelayObject* FromProxy(wl_proxy* proxy);
  /** Whether two interfaces are the same protocol interface (both libraries carry a copy). */
  static bool SameInterface(const wl_interface* a, const wl_interface* b);

  /** Pairs the object with its host proxy and starts relaying the proxy's events. */
  void AttachProxy(wl_proxy* proxy);
  /**
   * Drops the host proxy without telling the host (the whole host connection is going away).
   * The guest resource stays until libwayland destroys it.
   */
  void DetachFromOwner();

  wl_resource* resource() const { return resource_; }
  wl_proxy* proxy() const { return proxy_; }
  RelayKind kind() const { return kind_; }

 private:
  RelayObject(BridgeClient* owner, wl_resource* resource, RelayKind kind)
      : owner_(owner), resource_(resource), kind_(kind) {}
  ~RelayObject() = default;

  static int DispatchRequest(const void* implementation, void* target, uint32_t opcode,
                             const ::wl_message* message, ::wl_argument* args);
  static int DispatchEvent(const void* implementation, void* target, uint32_t opcode,
                           const ::wl_message* message, ::wl_argument* args);
  static void ResourceDestroyed(wl_resource* resource);

  /**
   * Policy before forwarding; false when the request is not forwarded: refused (the error is
   * posted already) or dropped on purpose (damage past the per-commit cap).
   */
  bool CheckRequest(uint32_t opcode, ::wl_argument* args, std::string* replaced_string);
  /** Bookkeeping once forwarded; `objects[i]` is the relay object of object argument i. */
  void AfterRequest(uint32_t opcode, ::wl_argument* args, RelayObject* const* objects,
                    RelayObject* created);
  bool CheckDmabufRequest(uint32_t opcode, ::wl_argument* args);
  static DmabufPlane PlaneOf(const ::wl_argument* args);
  void Forward(uint32_t opcode, const ::wl_message* message, ::wl_argument* args,
               const ArgSpec* specs, int count);
  void LinkRole(RelayObject* surface);
  void UnlinkRole();
  RelayObject* Toplevel() const;
  void OnSurfaceCommit();
  /** After a commit reached the host: asks the host whether it accepted a new toplevel. */
  void UpdateMapped();
  bool XdgSurfaceAcked() const;
  void CancelMapSync();
  void SetMapped(bool mapped);
  static void MapSyncDoneThunk(void* data, wl_callback* callback, uint32_t serial);

  BridgeClient* owner_;
  wl_resource* resource_;
  wl_proxy* proxy_ = nullptr;
  RelayKind kind_;

  // wl_shm_pool: the guest's fd, kept to re-check it on resize, and the checked size.
  UniqueFd pool_fd_;
  int64_t pool_size_ = 0;
  // wl_shm (between create_pool's check and the pool's creation), wl_shm_pool and wl_buffer: the
  // bridge-owned copy of an unsealable pool; wl_surface: the copy of the buffer being attached.
  std::shared_ptr<ShmCopy> copy_;
  // wl_region: rectangles added or subtracted so far.
  uint32_t region_rects_ = 0;
  // wl_surface: damage requests since the last commit.
  uint32_t damage_rects_ = 0;

  // zwp_linux_buffer_params_v1: the planes added so far, with the guest's fds kept to measure
  // them at create.
  std::vector<DmabufPlane> planes_;
  std::vector<UniqueFd> plane_fds_;

  // wl_surface: role objects (xdg_surface, xdg_toplevel) pointing at it, and the buffer state.
  std::vector<RelayObject*> roles_;
  bool attach_pending_ = false;
  bool pending_has_buffer_ = false;
  bool has_buffer_ = false;

  // xdg_surface / xdg_toplevel: the surface they give a role to (nullptr once it is gone).
  RelayObject* surface_ = nullptr;
  // xdg_surface: a configure was acknowledged. xdg_toplevel: the host sync that confirms the
  // first committed buffer was accepted (a host error would end the connection before it).
  bool acked_ = false;
  wl_callback* map_sync_ = nullptr;
  bool mapped_ = false;
  // Some event of the interface makes an object: the host proxy outlives the destructor request
  // until the host has read it (see Forward).
  bool retire_ = false;
  std::string app_id_;
  std::string title_;

  friend class BridgeClient;
};

}  // namespace bridge
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_BRIDGE_RELAY_OBJECT_H_
