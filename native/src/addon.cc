// Module entry point: installs the per-environment state and registers every export declared in
// native/index.d.ts.
#include <napi.h>

#include "addon_state.h"
#include "ashmem.h"
#include "bridge/bridge_js.h"
#include "fd_inspect.h"
#include "fd_ops.h"
#include "fd_passing.h"
#include "mapping.h"

namespace droidway {

/** Registers the module's exports on `exports` for one environment. */
Napi::Object InitDroidwayNative(Napi::Env env, Napi::Object exports) {
  AddonState::Install(env);
  exports.Set("napiVersion", Napi::Number::New(env, NAPI_VERSION));
  Ashmem::Register(env, exports);
  FdInspect::Register(env, exports);
  Mapping::Register(env, exports);
  FdPassing::Register(env, exports);
  FdOps::Register(env, exports);
  bridge::BridgeJs::Register(env, exports);
  return exports;
}

}  // namespace droidway

// NODE_API_MODULE pastes the function name into an identifier, so it needs an unqualified name.
using droidway::InitDroidwayNative;
NODE_API_MODULE(droidway_native, InitDroidwayNative)
