#include "addon_state.h"

namespace droidway {

AddonState* AddonState::Install(Napi::Env env) {
  auto* state = new AddonState();
  env.SetInstanceData(state);  // default finalizer deletes it
  return state;
}

AddonState* AddonState::Get(Napi::Env env) {
  return env.GetInstanceData<AddonState>();
}

}  // namespace droidway
