// The wl_seat relay unit. Pointer and touch need nothing beyond the generic relay (each guest has
// its own host connection, so the host routes input itself); wl_keyboard.keymap hands the guest
// the bridge's sealed read-only copy of the host's keymap (KeymapCopy), never the host's fd, and
// keyboard focus drives the clipboard's (DataDeviceRelay::KeyboardFocus).
#include "bridge_client.h"
#include "keymap_copy.h"
#include "relay_unit.h"
#include "wayland_headers.h"

namespace droidway {
namespace bridge {
namespace {

bool KeyboardEvent(RelayObject* self, uint32_t opcode, wl_argument* args, wl_argument* out,
                   UniqueFd* hold) {
  if (opcode == WL_KEYBOARD_KEYMAP) {
    // keymap(format, fd, size): the guest gets the bridge's sealed read-only copy instead.
    const NativeStatus status = KeymapCopy::Make(args[1].h, args[2].u, hold);
    // Without a keymap the guest cannot read keys, but it cannot harm the host either.
    if (!status.ok()) return false;
    out[1].h = hold->get();
  } else if (opcode == WL_KEYBOARD_ENTER || opcode == WL_KEYBOARD_LEAVE) {
    self->owner()->clipboard()->KeyboardFocus(self, opcode == WL_KEYBOARD_ENTER);
  }
  return true;
}

void KeyboardDestroyed(RelayObject* self) {
  if (self->owner() != nullptr) self->owner()->clipboard()->Forget(self);
}

const RelayInterface kInterfaces[] = {
    {"wl_keyboard",
     RelayKind::kKeyboard,
     {nullptr, nullptr, KeyboardEvent, KeyboardDestroyed, nullptr}},
};

}  // namespace

const RelayUnit kSeatUnit = {"seat", kInterfaces, sizeof kInterfaces / sizeof kInterfaces[0]};

}  // namespace bridge
}  // namespace droidway
