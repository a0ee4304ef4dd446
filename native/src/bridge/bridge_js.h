// The JS edge of the display bridge: the DisplayBridge class (`new DisplayBridge(options,
// onEvent)`, `stop()`, `stats()`), events delivered through a ThreadSafeFunction.
#ifndef DROIDWAY_NATIVE_BRIDGE_BRIDGE_JS_H_
#define DROIDWAY_NATIVE_BRIDGE_BRIDGE_JS_H_

#include <napi.h>

#include <memory>

#include "bridge.h"

namespace droidway {
namespace bridge {

/** ObjectWrap owning one Bridge; stopping it (or its finalizer, or env teardown) joins the thread.
 */
class BridgeJs : public Napi::ObjectWrap<BridgeJs> {
 public:
  /** Adds the DisplayBridge class to `exports`. */
  static void Register(Napi::Env env, Napi::Object exports);

  /** `new DisplayBridge(options, onEvent)`: validates options and starts the bridge. */
  explicit BridgeJs(const Napi::CallbackInfo& info);
  ~BridgeJs() override;

 private:
  Napi::Value Stop(const Napi::CallbackInfo& info);
  Napi::Value Stats(const Napi::CallbackInfo& info);
  void Shutdown();
  static void CleanupHook(void* data);

  std::unique_ptr<Bridge> bridge_;
  Napi::ThreadSafeFunction events_;
  bool events_live_ = false;
  napi_env env_ = nullptr;
  bool cleanup_hook_ = false;
};

}  // namespace bridge
}  // namespace droidway

#endif  // DROIDWAY_NATIVE_BRIDGE_BRIDGE_JS_H_
