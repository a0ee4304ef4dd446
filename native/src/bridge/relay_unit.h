// Relay units: the checks and bookkeeping of one protocol on top of the generic relay
// (RelayObject), in the shape wlroots gives its protocol implementations. A unit names the
// interfaces it cares about and, for each, up to four hooks; every other interface of an allowed
// global is relayed from its message signatures alone. Units are registered beside the globals
// they come with, in the supported-globals table of bridge.cc; RelayObject finds an object's
// hooks by its interface name when it creates the object and dispatches through them.
//
// Adding a protocol: a relay_<name>.cc defining a RelayUnit (its interfaces and hooks), its
// declaration below, and one row in bridge.cc's table naming the global and the unit. The checks
// a hook runs belong in a Node-API-free policy file returning a Verdict (verdict.h), with plain
// C++ tests in native/tests.
#ifndef DROIDWAY_NATIVE_BRIDGE_RELAY_UNIT_H_
#define DROIDWAY_NATIVE_BRIDGE_RELAY_UNIT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "../unique_fd.h"
#include "relay_object.h"

union wl_argument;

namespace droidway {
namespace bridge {

class RelayObject;

/** What a unit does for one interface; a null hook means "as the generic relay does". */
struct RelayHooks {
  /**
   * A guest request, before it is forwarded. Returns false when it is not forwarded: refused
   * (the error is posted already) or dropped on purpose. May rewrite arguments; a rewritten
   * string must live in `*replaced` (or in the object) until the request is forwarded.
   */
  bool (*check_request)(RelayObject* self, uint32_t opcode, wl_argument* args,
                        std::string* replaced);
  /**
   * A request once forwarded: `objects[i]` is the relay object of object argument i, `created`
   * the object it made (or nullptr). An fd the unit keeps is taken out of `args` (set to -1).
   */
  void (*after_request)(RelayObject* self, uint32_t opcode, wl_argument* args,
                        RelayObject* const* objects, RelayObject* created);
  /**
   * A host event, before it is posted to the guest as `out` (objects already translated).
   * Returns false when it is dropped (the relay closes its fds). An fd the unit puts into `out`
   * is held in `*hold` until the event is posted.
   */
  bool (*filter_event)(RelayObject* self, uint32_t opcode, wl_argument* args, wl_argument* out,
                       UniqueFd* hold);
  /**
   * The guest resource is being destroyed (its owner may be gone already: `self->owner()` is
   * then nullptr): unlink what the unit tracks, release what it kept.
   */
  void (*destroyed)(RelayObject* self);
  /** The client's host connection is going away; the object's proxy is destroyed next. */
  void (*detached)(RelayObject* self);
};

/** One interface of a unit: its name, how the client's limits count it, its hooks. */
struct RelayInterface {
  const char* name;
  RelayKind kind;
  RelayHooks hooks;
};

/** One protocol's relay unit. */
struct RelayUnit {
  /** Short name, for the design notes and errors ("shm", "xdg", …). */
  const char* name;
  const RelayInterface* interfaces;
  size_t count;
};

// The units (relay_<name>.cc; the clipboard's is in data_device_relay.cc).
extern const RelayUnit kShmUnit;         // wl_shm, wl_shm_pool, wl_buffer
extern const RelayUnit kSurfaceUnit;     // wl_compositor: wl_surface, wl_region
extern const RelayUnit kXdgUnit;         // xdg_wm_base, xdg_surface, xdg_toplevel
extern const RelayUnit kDmabufUnit;      // zwp_linux_dmabuf_v1: zwp_linux_buffer_params_v1
extern const RelayUnit kSeatUnit;        // wl_seat: wl_keyboard
extern const RelayUnit kTabletUnit;      // zwp_tablet_manager_v2: tablets, pads, rings, strips
extern const RelayUnit kDataDeviceUnit;  // wl_data_device_manager: device, source, offer

/**
 * The interface entry of `name` in the units of the supported-globals table (bridge.cc), or
 * nullptr when no unit claims it (the generic relay alone).
 */
const RelayInterface* FindRelayInterface(const char* name);

/** Every unit of the supported-globals table, each once (for tests and checks). */
const RelayUnit* const* RegisteredRelayUnits(size_t* count);

}  // namespace bridge
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_BRIDGE_RELAY_UNIT_H_
