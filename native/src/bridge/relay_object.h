// One guest object and its host twin. Requests from the guest resource are checked by the
// hooks of its protocol's relay unit (relay_unit.h) and forwarded to the host proxy (object
// arguments translated, new objects paired); events from the host proxy are forwarded back the same
// way. The generic path works from the protocol's message signatures, so every interface of an
// allowed global is relayed without hand-written glue, and the hooks only add the checks.
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
struct RelayInterface;

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
  /**
   * The host proxy of a destroyed relay object, kept for `owner` until the host has read its
   * destructor (BridgeClient::Retire): its events are dropped from now on.
   */
  static void MarkRetired(wl_proxy* proxy, BridgeClient* owner);
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
  /** The client that owns the object; nullptr once its host connection is gone. */
  BridgeClient* owner() const { return owner_; }

  /**
   * Policy before forwarding, through the object's relay unit (relay_unit.h); false when the
   * request is not forwarded: refused (the error is posted already) or dropped on purpose
   * (damage past the per-commit cap).
   */
  bool CheckRequest(uint32_t opcode, ::wl_argument* args, std::string* replaced_string);
  /**
   * Bookkeeping once forwarded, through the object's relay unit; `objects[i]` is the relay
   * object of object argument i, `created` the object the request made (or nullptr).
   */
  void AfterRequest(uint32_t opcode, ::wl_argument* args, RelayObject* const* objects,
                    RelayObject* created);

  // Per-protocol state, read and written only by the relay units named beside each field.

  // relay_shm.cc. wl_shm_pool: the guest's fd, kept to re-check it on resize, and the checked
  // size. wl_shm (between create_pool's check and the pool's creation), wl_shm_pool and
  // wl_buffer: the bridge-owned copy of an unsealable pool; wl_surface: the copy of the buffer
  // being attached (relay_surface.cc).
  UniqueFd pool_fd_;
  int64_t pool_size_ = 0;
  std::shared_ptr<ShmCopy> copy_;
  // relay_surface.cc. wl_region: rectangles added or subtracted so far; wl_surface: damage
  // requests since the last commit, and the buffer state.
  uint32_t region_rects_ = 0;
  uint32_t damage_rects_ = 0;
  bool attach_pending_ = false;
  bool pending_has_buffer_ = false;
  bool has_buffer_ = false;
  // relay_dmabuf.cc. zwp_linux_buffer_params_v1: the planes added so far, with the guest's fds
  // kept to measure them at create.
  std::vector<DmabufPlane> planes_;
  std::vector<UniqueFd> plane_fds_;
  // relay_xdg.cc. wl_surface: role objects (xdg_surface, xdg_toplevel) pointing at it.
  // xdg_surface / xdg_toplevel: the surface they give a role to (nullptr once it is gone).
  // xdg_surface: a configure was acknowledged. xdg_toplevel: the host sync that confirms the
  // first committed buffer was accepted (a host error would end the connection before it), the
  // mapped state and the sanitized app_id and title.
  std::vector<RelayObject*> roles_;
  RelayObject* surface_ = nullptr;
  bool acked_ = false;
  wl_callback* map_sync_ = nullptr;
  bool mapped_ = false;
  std::string app_id_;
  std::string title_;

 private:
  RelayObject(BridgeClient* owner, wl_resource* resource, const RelayInterface* unit)
      : owner_(owner), resource_(resource), unit_(unit), kind_(KindOf(unit)) {}
  ~RelayObject() = default;

  static RelayKind KindOf(const RelayInterface* unit);
  static int DispatchRequest(const void* implementation, void* target, uint32_t opcode,
                             const ::wl_message* message, ::wl_argument* args);
  static int DispatchEvent(const void* implementation, void* target, uint32_t opcode,
                           const ::wl_message* message, ::wl_argument* args);
  static void ResourceDestroyed(wl_resource* resource);

  void Forward(uint32_t opcode, const ::wl_message* message, ::wl_argument* args,
               const ArgSpec* specs, int count);

  BridgeClient* owner_;
  wl_resource* resource_;
  wl_proxy* proxy_ = nullptr;
  const wl_interface* interface_ = nullptr;
  // The interface's entry in its relay unit, or nullptr (the generic relay alone).
  const RelayInterface* unit_;
  RelayKind kind_;
  // Some event of the interface makes an object: the host proxy outlives the destructor request
  // until the host has read it (see Forward).
  bool retire_ = false;

  friend class BridgeClient;
  friend class WireFastPath;  // runs CheckRequest and AfterRequest for the hot requests
};

}  // namespace bridge
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_BRIDGE_RELAY_OBJECT_H_
