// Per-instance state of the addon (one per Node-API environment: the main thread and each worker
// thread that loads the module). The module keeps no static mutable state; whatever must outlive
// a call lives here, attached with napi_set_instance_data.
#ifndef DROIDWAY_NATIVE_ADDON_STATE_H_
#define DROIDWAY_NATIVE_ADDON_STATE_H_

#include <napi.h>

namespace droidway {

/** State owned by one environment's instance of the addon. */
class AddonState {
 public:
  /** Creates the state and attaches it to `env`; the environment deletes it at teardown. */
  static AddonState* Install(Napi::Env env);
  /** The state attached to `env` by Install. */
  static AddonState* Get(Napi::Env env);

  /** The Mapping class constructor, used to create Mapping objects from C++. */
  Napi::FunctionReference mapping_constructor;
};

}  // namespace droidway

#endif  // DROIDWAY_NATIVE_ADDON_STATE_H_
