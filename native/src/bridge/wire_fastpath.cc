#include "wire_fastpath.h"

#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "bridge_client.h"
#include "host_connection.h"
#include "relay_object.h"
#include "socket_io.h"
#include "wayland_headers.h"

namespace droidway {
namespace bridge {
namespace {

// libwayland's connection buffer: no message is longer.
constexpr uint32_t kMaxMessage = 4096;
constexpr size_t kInCapacity = 64 * 1024;
constexpr size_t kEventChunk = 16 * 1024;
// Fast bytes one read may send to the host; with the check in HostReady, the host socket never
// refuses them (see there).
constexpr size_t kFastBudget = 16 * 1024;

}  // namespace

NativeStatus WireFastPath::Create(wl_event_loop* loop, UniqueFd guest, int* server_end,
                                  std::unique_ptr<WireFastPath>* out) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair) < 0) {
    return NativeStatus::FromErrno("socketpair", "guest connection relay");
  }
  *server_end = pair[0];
  out->reset(new WireFastPath(loop, std::move(guest), UniqueFd(pair[1])));
  return {};
}

WireFastPath::WireFastPath(wl_event_loop* loop, UniqueFd guest, UniqueFd peer)
    : loop_(loop), guest_(std::move(guest)), peer_(std::move(peer)), in_(kInCapacity) {}

WireFastPath::~WireFastPath() {
  if (guest_source_ != nullptr) wl_event_source_remove(guest_source_);
  if (peer_source_ != nullptr) wl_event_source_remove(peer_source_);
  CloseAll(&in_fds_);
  CloseAll(&slow_fds_);
  CloseAll(&out_fds_);
}

NativeStatus WireFastPath::Start(BridgeClient* owner) {
  owner_ = owner;
  guest_source_ = wl_event_loop_add_fd(loop_, guest_.get(), WL_EVENT_READABLE, GuestThunk, this);
  peer_source_ = wl_event_loop_add_fd(loop_, peer_.get(), WL_EVENT_READABLE, PeerThunk, this);
  if (guest_source_ == nullptr || peer_source_ == nullptr) {
    return NativeStatus::FromErrno("wl_event_loop_add_fd", "watching a guest connection");
  }
  return {};
}

void WireFastPath::SetPaused(bool paused) {
  paused_ = paused;
  UpdateMasks();
}

void WireFastPath::Close() {
  if (owner_ != nullptr && !guest_gone_) {
    wl_client_flush(owner_->client());
    PumpEvents();
  }
  if (guest_source_ != nullptr) wl_event_source_remove(guest_source_);
  if (peer_source_ != nullptr) wl_event_source_remove(peer_source_);
  guest_source_ = peer_source_ = nullptr;
  guest_.reset();
  peer_.reset();
  owner_ = nullptr;
}

void WireFastPath::UpdateMasks() {
  if (guest_gone_ || owner_ == nullptr) return;
  uint32_t guest_mask = 0;
  if (!paused_ && slow_.empty()) guest_mask |= WL_EVENT_READABLE;
  if (!out_.empty()) guest_mask |= WL_EVENT_WRITABLE;
  uint32_t peer_mask = 0;
  if (out_.empty()) peer_mask |= WL_EVENT_READABLE;
  if (!slow_.empty()) peer_mask |= WL_EVENT_WRITABLE;
  // Only changes reach epoll (each is a syscall).
  if (guest_source_ != nullptr && guest_mask != guest_mask_) {
    wl_event_source_fd_update(guest_source_, guest_mask);
    guest_mask_ = guest_mask;
  }
  if (peer_source_ != nullptr && peer_mask != peer_mask_) {
    wl_event_source_fd_update(peer_source_, peer_mask);
    peer_mask_ = peer_mask;
  }
}

void WireFastPath::GuestGone() {
  if (guest_gone_) return;
  guest_gone_ = true;
  // As a hang-up of the guest's own socket did: libwayland-server destroys the client.
  if (guest_source_ != nullptr) wl_event_source_remove(guest_source_);
  if (peer_source_ != nullptr) wl_event_source_remove(peer_source_);
  guest_source_ = peer_source_ = nullptr;
  peer_.reset();
  in_len_ = 0;
  slow_.clear();
  CloseAll(&in_fds_);
  CloseAll(&slow_fds_);
  CloseAll(&out_fds_);
  out_.clear();
}

void WireFastPath::OnGuest(uint32_t mask) {
  if ((mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) != 0) return GuestGone();
  if ((mask & WL_EVENT_WRITABLE) != 0) {
    if (!WriteGuest()) return GuestGone();
    if (out_.empty()) PumpEvents();
    if (guest_gone_) return;
  }
  if ((mask & WL_EVENT_READABLE) != 0 && !paused_ && slow_.empty()) {
    if (!ReadGuest()) return GuestGone();
    Process();
  }
  UpdateMasks();
}

void WireFastPath::OnPeer(uint32_t mask) {
  if ((mask & WL_EVENT_WRITABLE) != 0) {
    if (!WriteSlow()) return GuestGone();
  }
  if ((mask & WL_EVENT_READABLE) != 0) PumpEvents();
  if (guest_gone_) return;
  if ((mask & (WL_EVENT_HANGUP | WL_EVENT_ERROR)) != 0 && peer_source_ != nullptr) {
    // libwayland-server closed its end: the client is going away.
    wl_event_source_remove(peer_source_);
    peer_source_ = nullptr;
  }
  UpdateMasks();
}

bool WireFastPath::ReadGuest() {
  const ssize_t got =
      RecvWithFds(guest_.get(), in_.data() + in_len_, in_.size() - in_len_, &in_fds_);
  if (got == 0) return false;
  if (got < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
  in_len_ += static_cast<size_t>(got);
  return true;
}

bool WireFastPath::SlowDrained() {
  int queued = 0;
  return ::ioctl(peer_.get(), SIOCOUTQ, &queued) == 0 && queued == 0;
}

void WireFastPath::Process() {
  if (slow_outstanding_ && slow_.empty() && SlowDrained()) slow_outstanding_ = false;
  host_ready_ = -1;
  size_t pos = 0;
  while (!passthrough_ && in_len_ - pos >= 8) {
    uint32_t header[2];
    std::memcpy(header, in_.data() + pos, sizeof header);
    const uint32_t size = header[1] >> 16;
    if (size < 8 || size > kMaxMessage || size % 4 != 0) {
      // libwayland-server judges it (and ends the client): it gets the bytes as they came.
      passthrough_ = true;
      break;
    }
    if (in_len_ - pos < size) break;
    const bool fast =
        !slow_outstanding_ && slow_.empty() && in_fds_.empty() && TryFast(in_.data() + pos, size);
    if (owner_ == nullptr || owner_->doomed_) {
      // A check ended the client: libwayland-server dispatches nothing after an error either.
      in_len_ = 0;
      fast_len_ = 0;
      CloseAll(&in_fds_);
      return;
    }
    if (!fast) slow_.insert(slow_.end(), in_.data() + pos, in_.data() + pos + size);
    pos += size;
  }
  if (!passthrough_ && !in_fds_.empty() && slow_.empty()) {
    // Fds without a whole message to carry them to libwayland-server (a guest's partial send):
    // they go with the partial bytes, and the stream is passed through from now on.
    passthrough_ = true;
  }
  if (passthrough_) {
    slow_.insert(slow_.end(), in_.data() + pos, in_.data() + in_len_);
    pos = in_len_;
  }
  if (pos > 0) {
    std::memmove(in_.data(), in_.data() + pos, in_len_ - pos);
    in_len_ -= pos;
  }
  if (fast_len_ > 0 && !SendFast()) return;
  if (!slow_.empty()) {
    slow_fds_.insert(slow_fds_.end(), in_fds_.begin(), in_fds_.end());
    in_fds_.clear();
    if (!WriteSlow()) return GuestGone();
  }
}

bool WireFastPath::HostReady() {
  if (host_ready_ >= 0) return host_ready_ == 1;
  host_ready_ = 0;
  BridgeClient* owner = owner_;
  if (owner->host_ == nullptr || owner->host_source_ == nullptr || owner->write_blocked_ ||
      owner->doomed_) {
    return false;
  }
  // Whatever libwayland-client holds for the host goes first; if it cannot all go now, the
  // slow path (and its back-pressure) takes over.
  bool blocked = false;
  if (!owner->host_->Flush(&blocked).ok() || blocked) return false;
  const int fd = owner->host_->fd();
  if (host_sndbuf_ == 0) {
    socklen_t length = sizeof host_sndbuf_;
    if (::getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &host_sndbuf_, &length) < 0 || host_sndbuf_ <= 0)
      host_sndbuf_ = -1;
  }
  if (host_sndbuf_ < 0) return false;
  // A Unix stream socket takes a write of one skb whole as long as its queued bytes are under
  // SO_SNDBUF when the write starts: with the queue under half of it, every write of this read
  // (at most kFastBudget, in pieces of one skb) is taken whole or the connection is broken.
  int queued = 0;
  if (::ioctl(fd, SIOCOUTQ, &queued) < 0 || queued >= host_sndbuf_ / 2 ||
      static_cast<size_t>(host_sndbuf_ / 2) < 2 * kFastBudget) {
    return false;
  }
  fast_budget_ = kFastBudget;
  host_ready_ = 1;
  return true;
}

bool WireFastPath::SendFast() {
  const size_t length = fast_len_;
  fast_len_ = 0;
  ssize_t sent;
  do {
    sent = ::send(owner_->host_->fd(), fast_, length, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  if (sent == static_cast<ssize_t>(length)) return true;
  host_ready_ = 0;
  // Never a part (HostReady): the host connection is broken, and this client ends with it.
  owner_->HostFailed(std::string("writing to the host compositor failed: ") +
                     (sent < 0 ? std::strerror(errno) : "short write"));
  return false;
}

bool WireFastPath::FastRoom(uint32_t size) {
  if (!HostReady() || fast_budget_ < size) return false;
  return fast_len_ + size <= sizeof fast_ || SendFast();
}

bool WireFastPath::TrySync(uint32_t callback_id) {
  // Without the hook, libwayland-server answers syncs itself (BridgeClient::OnResourceCreated).
  if (!owner_->display_hook_.installed() || !owner_->NewIdFree(callback_id) || !FastRoom(12))
    return false;
  uint32_t host_id = 0;
  owner_->FastSync(callback_id, &host_id);  // may end the client: Process looks
  if (host_id != 0) {
    const uint32_t words[3] = {1, (12u << 16) | WL_DISPLAY_SYNC, host_id};
    std::memcpy(fast_ + fast_len_, words, sizeof words);
    fast_len_ += sizeof words;
    fast_budget_ -= sizeof words;
  }
  ++fast_messages_;
  return true;
}

bool WireFastPath::TryFast(const uint8_t* message, uint32_t size) {
  uint32_t words[6];
  std::memcpy(words, message, size < sizeof words ? size : sizeof words);
  const uint32_t opcode = words[1] & 0xffff;
  // The guest's wl_display is always its object 1 (libwayland-server makes it first).
  if (words[0] == 1) return opcode == WL_DISPLAY_SYNC && size == 12 && TrySync(words[2]);
  uint32_t expected = 0;
  switch (opcode) {
    case WL_SURFACE_ATTACH:
      expected = 20;
      break;
    case WL_SURFACE_DAMAGE:
    case WL_SURFACE_DAMAGE_BUFFER:
      expected = 24;
      break;
    case WL_SURFACE_COMMIT:
      expected = 8;
      break;
    case WL_SURFACE_FRAME:
      expected = 12;
      break;
    default:
      return false;
  }
  if (size != expected) return false;
  wl_client* client = owner_->client();
  wl_resource* resource = wl_client_get_object(client, words[0]);
  if (resource == nullptr) return false;
  RelayObject* surface = RelayObject::FromResource(resource);
  if (surface == nullptr || surface->kind_ != RelayKind::kSurface || surface->owner_ != owner_ ||
      surface->proxy_ == nullptr) {
    return false;
  }
  if (opcode == WL_SURFACE_DAMAGE_BUFFER &&
      wl_resource_get_version(resource) < WL_SURFACE_DAMAGE_BUFFER_SINCE_VERSION) {
    return false;
  }
  union wl_argument args[4];
  std::memset(args, 0, sizeof args);
  RelayObject* objects[4] = {};
  wl_resource* buffer_resource = nullptr;
  if (opcode == WL_SURFACE_ATTACH) {
    if (words[2] != 0) {
      buffer_resource = wl_client_get_object(client, words[2]);
      if (buffer_resource == nullptr ||
          std::strcmp(wl_resource_get_class(buffer_resource), "wl_buffer") != 0) {
        return false;
      }
      objects[0] = RelayObject::FromResource(buffer_resource);
      if (objects[0] == nullptr || objects[0]->proxy_ == nullptr || objects[0]->owner_ != owner_)
        return false;
    }
    args[0].o = reinterpret_cast<wl_object*>(buffer_resource);
    std::memcpy(&args[1].i, &words[3], 4);
    std::memcpy(&args[2].i, &words[4], 4);
  } else if (opcode == WL_SURFACE_FRAME) {
    if (!owner_->NewIdFree(words[2])) return false;
    args[0].n = words[2];
  } else if (opcode != WL_SURFACE_COMMIT) {
    for (int i = 0; i < 4; ++i) std::memcpy(&args[i].i, &words[2 + i], 4);
  }
  if (!FastRoom(size)) return false;
  std::string replaced;
  // The generic path's own checks, in its order: CheckRequest, the new object (RelayObject::
  // Forward), translation, AfterRequest.
  if (surface->CheckRequest(opcode, args, &replaced)) {
    RelayObject* created = nullptr;
    if (opcode == WL_SURFACE_FRAME) {
      created =
          RelayObject::Create(owner_, &wl_callback_interface,
                              static_cast<uint32_t>(wl_resource_get_version(resource)), words[2]);
      if (created == nullptr) {  // refused by the object cap or out of memory: the client ends
        ++fast_messages_;
        return true;
      }
      wl_proxy* proxy = wl_proxy_create(surface->proxy_, &wl_callback_interface);
      if (proxy == nullptr) {
        wl_resource_destroy(created->resource_);
        owner_->OutOfMemory();
        ++fast_messages_;
        return true;
      }
      created->AttachProxy(proxy);
      words[2] = wl_proxy_get_id(proxy);
    }
    words[0] = wl_proxy_get_id(surface->proxy_);
    if (opcode == WL_SURFACE_ATTACH) {
      words[2] = objects[0] != nullptr ? wl_proxy_get_id(objects[0]->proxy_) : 0;
      std::memcpy(&words[3], &args[1].i, 4);
      std::memcpy(&words[4], &args[2].i, 4);
    } else if (opcode != WL_SURFACE_COMMIT && opcode != WL_SURFACE_FRAME) {
      for (int i = 0; i < 4; ++i) std::memcpy(&words[2 + i], &args[i].i, 4);
    }
    std::memcpy(fast_ + fast_len_, words, size);
    fast_len_ += size;
    fast_budget_ -= size;
    surface->AfterRequest(opcode, args, objects, created);
    // A commit of a toplevel's surface may have queued a sync in libwayland-client (see
    // RelayObject::UpdateMapped): nothing of this read may overtake it.
    if (opcode == WL_SURFACE_COMMIT && !surface->roles_.empty()) host_ready_ = 0;
  }
  ++fast_messages_;
  return true;
}

bool WireFastPath::WriteSlow() {
  size_t written = 0;
  while (written < slow_.size()) {
    const ssize_t sent =
        SendWithFds(peer_.get(), slow_.data() + written, slow_.size() - written, slow_fds_);
    if (sent < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      return false;
    }
    CloseSent(&slow_fds_);  // libwayland-server has its own copies now
    written += static_cast<size_t>(sent);
    slow_outstanding_ = true;
  }
  slow_.erase(slow_.begin(), slow_.begin() + static_cast<std::ptrdiff_t>(written));
  return true;
}

bool WireFastPath::WriteGuest() {
  while (!out_.empty()) {
    const ssize_t sent = SendWithFds(guest_.get(), out_.data(), out_.size(), out_fds_);
    if (sent < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    CloseAll(&out_fds_);
    out_.erase(out_.begin(), out_.begin() + sent);
  }
  return true;
}

void WireFastPath::PumpEvents() {
  while (out_.empty() && !guest_gone_ && peer_.valid()) {
    out_.resize(kEventChunk);
    const ssize_t got = RecvWithFds(peer_.get(), out_.data(), out_.size(), &out_fds_);
    if (got <= 0) {
      out_.clear();
      CloseAll(&out_fds_);
      return;
    }
    // A read short of the chunk took all libwayland-server had written (it writes on this
    // thread only), unless it stopped after fds (a read does).
    const bool drained = static_cast<size_t>(got) < kEventChunk && out_fds_.empty();
    out_.resize(static_cast<size_t>(got));
    if (!WriteGuest()) return GuestGone();
    if (drained) return;
  }
}

bool WireFastPath::InjectEvent(const uint8_t* message, size_t size) {
  if (guest_gone_ || owner_ == nullptr || !peer_.valid()) return false;
  // libwayland-server's buffer goes to the pair; if the pair could not take all of it, the pair
  // is not empty: so an empty pair means nothing of libwayland-server's is left behind this.
  wl_client_flush(owner_->client());
  int waiting = 0;
  if (::ioctl(peer_.get(), SIOCINQ, &waiting) < 0 || waiting != 0) return false;
  // Behind whatever the guest's socket did not take yet (out_), ahead of all that comes later.
  out_.insert(out_.end(), message, message + size);
  ++fast_events_;
  if (!WriteGuest()) {
    GuestGone();
    return true;  // the guest is gone: the event meant nothing more
  }
  UpdateMasks();
  return true;
}

void WireFastPath::FlushEvents() {
  if (guest_gone_ || owner_ == nullptr || !out_.empty()) return;
  wl_client_flush(owner_->client());
  PumpEvents();
  if (!guest_gone_) UpdateMasks();
}

int WireFastPath::GuestThunk(int /*fd*/, uint32_t mask, void* data) {
  static_cast<WireFastPath*>(data)->OnGuest(mask);
  return 0;
}

int WireFastPath::PeerThunk(int /*fd*/, uint32_t mask, void* data) {
  static_cast<WireFastPath*>(data)->OnPeer(mask);
  return 0;
}

}  // namespace bridge
}  // namespace droidway
