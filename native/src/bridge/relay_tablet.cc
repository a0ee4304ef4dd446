// The tablet relay unit (zwp_tablet_manager_v2). Tablets, tools, pads, groups, rings and strips
// are host objects made in events and paired by the generic relay; two things are not passed
// through: the `path` events of tablets and pads (a host device node the guest cannot open, and a
// map of the host's devices; the protocol allows their absence), and the help texts a guest sets
// with set_feedback, which the compositor shows, so they are sanitized as titles are.
#include "relay_unit.h"
#include "text_sanitize.h"
#include "wayland_headers.h"

namespace droidway {
namespace bridge {
namespace {

static_assert(ZWP_TABLET_PAD_V2_SET_FEEDBACK == ZWP_TABLET_PAD_RING_V2_SET_FEEDBACK &&
                  ZWP_TABLET_PAD_V2_SET_FEEDBACK == ZWP_TABLET_PAD_STRIP_V2_SET_FEEDBACK,
              "one opcode for the three set_feedback requests");

// set_feedback(description, serial) on a ring or strip; (button, description, serial) on a pad.
bool Feedback(uint32_t opcode, wl_argument* args, int text, std::string* replaced) {
  if (opcode == ZWP_TABLET_PAD_V2_SET_FEEDBACK) {
    *replaced = TextSanitize::Title(args[text].s);
    args[text].s = replaced->c_str();
  }
  return true;
}

bool PadCheck(RelayObject* /*self*/, uint32_t opcode, wl_argument* args, std::string* replaced) {
  return Feedback(opcode, args, 1, replaced);
}

bool ControlCheck(RelayObject* /*self*/, uint32_t opcode, wl_argument* args,
                  std::string* replaced) {
  return Feedback(opcode, args, 0, replaced);
}

bool TabletEvent(RelayObject* /*self*/, uint32_t opcode, wl_argument* /*args*/,
                 wl_argument* /*out*/, UniqueFd* /*hold*/) {
  return opcode != ZWP_TABLET_V2_PATH;
}

bool PadEvent(RelayObject* /*self*/, uint32_t opcode, wl_argument* /*args*/, wl_argument* /*out*/,
              UniqueFd* /*hold*/) {
  return opcode != ZWP_TABLET_PAD_V2_PATH;
}

const RelayInterface kInterfaces[] = {
    {"zwp_tablet_v2", RelayKind::kTablet, {nullptr, nullptr, TabletEvent, nullptr, nullptr}},
    {"zwp_tablet_pad_v2", RelayKind::kTabletPad, {PadCheck, nullptr, PadEvent, nullptr, nullptr}},
    {"zwp_tablet_pad_ring_v2",
     RelayKind::kTabletPadControl,
     {ControlCheck, nullptr, nullptr, nullptr, nullptr}},
    {"zwp_tablet_pad_strip_v2",
     RelayKind::kTabletPadControl,
     {ControlCheck, nullptr, nullptr, nullptr, nullptr}},
};

}  // namespace

const RelayUnit kTabletUnit = {"tablet", kInterfaces, sizeof kInterfaces / sizeof kInterfaces[0]};

}  // namespace bridge
}  // namespace droidway
