// What the wl_surface unit (relay_surface.cc) asks of the xdg unit (relay_xdg.cc): roles are
// xdg's, the surface only carries the list.
#ifndef DROIDWAY_NATIVE_BRIDGE_RELAY_XDG_H_
#define DROIDWAY_NATIVE_BRIDGE_RELAY_XDG_H_

namespace droidway {
namespace bridge {

class RelayObject;

/** A commit of `surface` reached the host: maps or unmaps its toplevel, if it has one. */
void XdgSurfaceCommitted(RelayObject* surface);
/** `surface` is going away: its role objects forget it. */
void XdgSurfaceGone(RelayObject* surface);

}  // namespace bridge
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_BRIDGE_RELAY_XDG_H_
