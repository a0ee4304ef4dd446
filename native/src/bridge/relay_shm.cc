// The wl_shm relay unit: wl_shm.create_pool seals (or copies) the guest's pool fd before the host
// sees it (ShmPolicy::PreparePoolFd), wl_shm_pool.resize re-checks the kept fd (or grows the
// copy), create_buffer checks the geometry against the pool and the host's formats
// (ShmPolicy::CheckBuffer). A buffer of a copied pool carries the copy, refreshed at each commit
// that attaches it (relay_surface.cc).
#include <fcntl.h>
#include <unistd.h>

#include "bridge.h"
#include "bridge_client.h"
#include "relay_unit.h"
#include "shm_policy.h"
#include "wayland_headers.h"

namespace droidway {
namespace bridge {
namespace {

// Posts a refused verdict on `self` and counts it.
bool Refused(RelayObject* self, const Verdict& verdict, bool fd_reason) {
  wl_resource_post_error(self->resource(), verdict.error, "%s", verdict.message.c_str());
  self->owner()->RecordViolation(verdict.reason, verdict.message, fd_reason);
  return false;
}

bool ShmCheck(RelayObject* self, uint32_t opcode, wl_argument* args, std::string* /*replaced*/) {
  if (opcode != WL_SHM_CREATE_POOL) return true;
  BridgeClient* owner = self->owner();
  if (!owner->AdmitFd()) return false;
  std::unique_ptr<ShmCopy> copy;
  Verdict verdict = ShmPolicy::PreparePoolFd(args[1].h, args[2].i, owner->require_sealed(), &copy);
  int copy_fd = -1;
  if (verdict.ok && copy != nullptr) {
    copy_fd = ::fcntl(copy->fd(), F_DUPFD_CLOEXEC, 0);
    if (copy_fd < 0) {
      verdict =
          Verdict::Refuse(WL_SHM_ERROR_INVALID_FD, "copy-failed", "duplicating a pool copy failed");
    }
  }
  if (!verdict.ok) return Refused(self, verdict, true);
  self->copy_.reset();
  if (copy != nullptr) {
    // The host gets the sealed copy; the guest's fd stays with the copy for refreshes.
    ::close(args[1].h);
    args[1].h = copy_fd;
    owner->CountCopied(static_cast<uint64_t>(copy->size()));
    owner->set_has_copies();
    self->copy_ = std::move(copy);
  }
  return true;
}

void ShmAfter(RelayObject* self, uint32_t /*opcode*/, wl_argument* args,
              RelayObject* const* /*objects*/, RelayObject* created) {
  if (created == nullptr || created->kind() != RelayKind::kShmPool) return;
  if (self->copy_ != nullptr) {
    // A copied pool: the copy holds the guest's fd and its own (args[1] is a duplicate).
    created->copy_ = std::move(self->copy_);
    self->owner()->FdsKept(2);
  } else {
    // wl_shm.create_pool(id, fd, size): keep the guest's fd to re-check it on resize.
    created->pool_fd_.reset(args[1].h);
    args[1].h = -1;
    self->owner()->FdsKept(1);
  }
  created->pool_size_ = args[2].i;
}

bool PoolCheck(RelayObject* self, uint32_t opcode, wl_argument* args, std::string* /*replaced*/) {
  BridgeClient* owner = self->owner();
  Verdict verdict;
  bool fd_check = false;
  if (opcode == WL_SHM_POOL_CREATE_BUFFER) {
    verdict = ShmPolicy::CheckBuffer(self->pool_size_, args[1].i, args[2].i, args[3].i, args[4].i,
                                     args[5].u, owner->bridge()->host_shm_formats());
  } else if (opcode == WL_SHM_POOL_RESIZE) {
    if (args[0].i < self->pool_size_) {
      verdict = Verdict::Refuse(WL_SHM_ERROR_INVALID_FD, "pool-shrink", "a pool can only grow");
    } else if (self->copy_ != nullptr) {
      int64_t copied = 0;
      const NativeStatus status = self->copy_->Grow(args[0].i, &copied);
      if (!status.ok()) {
        verdict = Verdict::Refuse(
            WL_SHM_ERROR_INVALID_FD, "unsealed",
            "an unsealable pool grows past what the bridge copies: " + status.message());
      } else {
        owner->CountCopied(static_cast<uint64_t>(copied));
      }
      fd_check = true;
    } else {
      verdict = ShmPolicy::CheckPoolFd(self->pool_fd_.get(), args[0].i, owner->require_sealed());
      fd_check = true;
    }
    if (verdict.ok) self->pool_size_ = args[0].i;
  }
  return verdict.ok || Refused(self, verdict, fd_check);
}

void PoolAfter(RelayObject* self, uint32_t /*opcode*/, wl_argument* /*args*/,
               RelayObject* const* /*objects*/, RelayObject* created) {
  // create_buffer: a buffer of a copied pool carries the copy (attach refreshes it).
  if (created != nullptr && created->kind() == RelayKind::kShmBuffer) created->copy_ = self->copy_;
}

void PoolDestroyed(RelayObject* self) {
  if (self->owner() == nullptr) return;
  self->owner()->FdsReleased((self->pool_fd_.valid() ? 1 : 0) + (self->copy_ != nullptr ? 2 : 0));
}

const RelayInterface kInterfaces[] = {
    {"wl_shm", RelayKind::kShm, {ShmCheck, ShmAfter, nullptr, nullptr, nullptr}},
    {"wl_shm_pool", RelayKind::kShmPool, {PoolCheck, PoolAfter, nullptr, PoolDestroyed, nullptr}},
    // Any wl_buffer (shm or dma-buf), counted against max_buffers.
    {"wl_buffer", RelayKind::kShmBuffer, {}},
};

}  // namespace

const RelayUnit kShmUnit = {"shm", kInterfaces, sizeof kInterfaces / sizeof kInterfaces[0]};

}  // namespace bridge
}  // namespace droidway
