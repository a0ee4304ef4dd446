// Both sides of Wayland in one translation unit: the server API toward the guest and the client
// API toward the host compositor, with the generated glue of the extension protocols. The core
// wl_* interface tables come from libwayland-server and libwayland-client themselves.
#ifndef DROIDWAY_NATIVE_BRIDGE_WAYLAND_HEADERS_H_
#define DROIDWAY_NATIVE_BRIDGE_WAYLAND_HEADERS_H_

#define WL_HIDE_DEPRECATED 1

#include <wayland-client-core.h>
#include <wayland-client-protocol.h>
#include <wayland-server-core.h>
#include <wayland-server-protocol.h>

#include "fractional-scale-v1-client-protocol.h"
#include "fractional-scale-v1-server-protocol.h"
#include "linux-dmabuf-unstable-v1-client-protocol.h"
#include "linux-dmabuf-unstable-v1-server-protocol.h"
#include "pointer-constraints-unstable-v1-client-protocol.h"
#include "pointer-constraints-unstable-v1-server-protocol.h"
#include "presentation-time-client-protocol.h"
#include "presentation-time-server-protocol.h"
#include "relative-pointer-unstable-v1-client-protocol.h"
#include "relative-pointer-unstable-v1-server-protocol.h"
#include "tablet-unstable-v2-client-protocol.h"
#include "tablet-unstable-v2-server-protocol.h"
#include "viewporter-client-protocol.h"
#include "viewporter-server-protocol.h"
#include "xdg-shell-client-protocol.h"
#include "xdg-shell-server-protocol.h"

#endif  // DROIDWAY_NATIVE_BRIDGE_WAYLAND_HEADERS_H_
