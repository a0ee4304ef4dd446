// A stand-in for the host compositor in the bridge fuzz target: a libwayland-server display on
// its own thread that offers every global the bridge relays, accepts every request (creating the
// objects requests name, closing the fds they carry) and sends the few events the bridge needs
// (shm formats, dmabuf modifiers, seat capabilities, a keymap). It checks nothing itself: the
// target is the bridge's parsing and checks, not a compositor. A target may hook the requests
// (to check what the bridge forwards, or keep fds) and run host-side actions on its thread (the
// clipboard target sends selections, offers and focus that way).
#ifndef DROIDWAY_NATIVE_FUZZ_STUB_HOST_H_
#define DROIDWAY_NATIVE_FUZZ_STUB_HOST_H_

#include <functional>
#include <memory>

#include "../src/bridge/host_connection.h"

struct wl_client;
struct wl_interface;
struct wl_message;
struct wl_resource;
union wl_argument;

namespace droidway {
namespace fuzz {

/** Starts the stub host once per process and returns a connector to it (for BridgeConfig). */
bridge::HostConnection::Connector StartStubHost();

/**
 * Called on the host thread for every request the stub gets, after it made the objects the
 * request creates; returns true when it took the request's fds (the stub then leaves them open).
 */
using StubRequestHook =
    std::function<bool(wl_resource* target, const wl_message* message, wl_argument* args)>;
/** Called on the host thread for every client (bridge connection) the stub accepts. */
using StubClientHook = std::function<void(wl_client* client)>;
/** Installs the hooks; call before StartStubHost. */
void SetStubHooks(StubRequestHook request, StubClientHook client);
/** Runs `action` on the host thread, flushes every client, and returns once it has run. */
void RunOnStubHost(const std::function<void()>& action);
/**
 * Likewise, but runs `meanwhile` on the caller's thread once `action` has started: what
 * `meanwhile` makes the bridge send reaches the host while `action` runs, before the host can
 * read it.
 */
void RunOnStubHostMeanwhile(const std::function<void()>& action,
                            const std::function<void()>& meanwhile);
/** A resource that accepts every request like the stub's own, for the objects events create. */
wl_resource* CreateStubResource(wl_client* client, const wl_interface* interface, int version,
                                uint32_t id);

}  // namespace fuzz
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_FUZZ_STUB_HOST_H_
