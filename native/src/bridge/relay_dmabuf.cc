// The linux-dmabuf relay unit: zwp_linux_buffer_params_v1.add keeps the guest's plane fd (the
// host gets a duplicate) after DmabufPolicy::CheckAdd; create and create_immed are checked with
// DmabufPolicy::CheckCreate against the host's format/modifier table the bridge collected.
#include "bridge.h"
#include "bridge_client.h"
#include "dmabuf_policy.h"
#include "relay_unit.h"
#include "wayland_headers.h"

namespace droidway {
namespace bridge {
namespace {

// add(fd, plane_idx, offset, stride, modifier_hi, modifier_lo)
DmabufPlane PlaneOf(const wl_argument* args) {
  DmabufPlane plane;
  plane.fd = args[0].h;
  plane.index = args[1].u;
  plane.offset = args[2].u;
  plane.stride = args[3].u;
  plane.modifier = uint64_t{args[4].u} << 32 | args[5].u;
  return plane;
}

bool ParamsCheck(RelayObject* self, uint32_t opcode, wl_argument* args, std::string* /*replaced*/) {
  BridgeClient* owner = self->owner();
  Verdict verdict;
  const DmabufFormatTable& table = owner->bridge()->host_dmabuf_formats();
  if (opcode == ZWP_LINUX_BUFFER_PARAMS_V1_ADD) {
    if (!owner->AdmitFd()) return false;
    verdict = DmabufPolicy::CheckAdd(self->planes_, PlaneOf(args));
  } else if (opcode == ZWP_LINUX_BUFFER_PARAMS_V1_CREATE) {
    verdict = DmabufPolicy::CheckCreate(self->planes_, args[0].i, args[1].i, args[2].u, table);
  } else if (opcode == ZWP_LINUX_BUFFER_PARAMS_V1_CREATE_IMMED) {
    verdict = DmabufPolicy::CheckCreate(self->planes_, args[1].i, args[2].i, args[3].u, table);
  }
  if (!verdict.ok) {
    wl_resource_post_error(self->resource(), verdict.error, "%s", verdict.message.c_str());
    owner->RecordViolation(verdict.reason, verdict.message, verdict.reason == "dmabuf-fd-size");
    return false;
  }
  if (opcode != ZWP_LINUX_BUFFER_PARAMS_V1_ADD) owner->CountDmabufBuffer();
  return true;
}

void ParamsAfter(RelayObject* self, uint32_t opcode, wl_argument* args,
                 RelayObject* const* /*objects*/, RelayObject* /*created*/) {
  if (opcode != ZWP_LINUX_BUFFER_PARAMS_V1_ADD) return;
  // Keep the guest's fd (the host got a duplicate) so create can measure the plane.
  self->planes_.push_back(PlaneOf(args));
  self->plane_fds_.emplace_back(args[0].h);
  args[0].h = -1;
  self->owner()->FdsKept(1);
}

void ParamsDestroyed(RelayObject* self) {
  if (self->owner() != nullptr)
    self->owner()->FdsReleased(static_cast<int>(self->plane_fds_.size()));
}

const RelayInterface kInterfaces[] = {
    {"zwp_linux_buffer_params_v1",
     RelayKind::kDmabufParams,
     {ParamsCheck, ParamsAfter, nullptr, ParamsDestroyed, nullptr}},
};

}  // namespace

const RelayUnit kDmabufUnit = {"dmabuf", kInterfaces, sizeof kInterfaces / sizeof kInterfaces[0]};

}  // namespace bridge
}  // namespace droidway
