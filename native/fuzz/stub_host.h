// A stand-in for the host compositor in the bridge fuzz target: a libwayland-server display on
// its own thread that offers every global the bridge relays, accepts every request (creating the
// objects requests name, closing the fds they carry) and sends the few events the bridge needs
// (shm formats, dmabuf modifiers, seat capabilities, a keymap). It checks nothing: the target is
// the bridge's parsing and checks, not a compositor.
#ifndef DROIDWAY_NATIVE_FUZZ_STUB_HOST_H_
#define DROIDWAY_NATIVE_FUZZ_STUB_HOST_H_

#include <memory>

#include "../src/bridge/host_connection.h"

namespace droidway {
namespace fuzz {

/** Starts the stub host once per process and returns a connector to it (for BridgeConfig). */
bridge::HostConnection::Connector StartStubHost();

}  // namespace fuzz
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_FUZZ_STUB_HOST_H_
