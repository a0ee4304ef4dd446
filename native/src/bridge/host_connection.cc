#include "host_connection.h"

#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "../unique_fd.h"
#include "socket_io.h"
#include "wayland_headers.h"

namespace droidway {
namespace bridge {
namespace {

// libwayland-client 1.21's connection buffer: it reads at most this much at once, and no message
// is longer. A group handed on is at most this long, so libwayland reads it in one read.
constexpr size_t kMaxMessage = 4096;
// Per guest client (a bridge near its memory cap still takes new clients): a read fills at
// most this, and a wakeup reads again while reads fill it.
constexpr size_t kInCapacity = 16 * 1024;
constexpr size_t kOutCapacity = 16 * 1024;
// Fds read ahead of the messages that carry them, at most (libwayland's own fd buffer holds
// 1024; a compositor sends each with its message).
constexpr size_t kMaxFdsAhead = 1024;
// The first id a host (server) makes objects with.
constexpr uint32_t kFirstServerId = 0xff000000;

uint32_t Word(const uint8_t* bytes, size_t at) {
  uint32_t value;
  std::memcpy(&value, bytes + at, sizeof value);
  return value;
}

int64_t MonotonicMs() {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return int64_t{now.tv_sec} * 1000 + now.tv_nsec / 1000000;
}

void SyncDone(void* data, wl_callback* callback, uint32_t /*serial*/) {
  *static_cast<bool*>(data) = true;
  wl_callback_destroy(callback);
}

const wl_callback_listener kSyncListener = {SyncDone};

// libwayland-client 1.21 keeps the text of a host's wl_display.error only in its log line
// ("%s@%u: error %d: %s\n", written while the error event is dispatched), so the bridge installs
// a log handler that remembers the last line of the thread (the bridge thread dispatches every
// host connection) and still prints it, as the default handler does.
thread_local char last_log_line[1024];

void LogHandler(const char* format, va_list args) {
  va_list copy;
  va_copy(copy, args);
  std::vsnprintf(last_log_line, sizeof last_log_line, format, copy);
  va_end(copy);
  std::fputs(last_log_line, stderr);
}

void InstallLogHandler() {
  static std::once_flag once;
  std::call_once(once, [] { wl_log_set_handler_client(LogHandler); });
}

}  // namespace

NativeStatus HostConnection::Connect(const std::string& socket_path,
                                     std::unique_ptr<HostConnection>* out,
                                     const Connector& connector) {
  // The host's error text reaches the guest only through libwayland's log line (both paths).
  InstallLogHandler();
  UniqueFd fd;
  if (connector) {
    NativeStatus status = connector(&fd);
    if (!status.ok()) return status;
    return Adopt(std::move(fd), socket_path, out);
  }
  struct sockaddr_un address;
  std::memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path[0] != '/' ||
      socket_path.size() >= sizeof address.sun_path) {
    return NativeStatus::Error(-EINVAL, "connect",
                               "host socket path must be absolute and shorter than " +
                                   std::to_string(sizeof address.sun_path) + " bytes");
  }
  std::memcpy(address.sun_path, socket_path.data(), socket_path.size());
  fd.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return NativeStatus::FromErrno("socket", "socket for the host compositor");
  int rc;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const struct sockaddr*>(&address), sizeof address);
  } while (rc < 0 && errno == EINTR);
  if (rc < 0)
    return NativeStatus::FromErrno("connect", "connect to host compositor " + socket_path);
  return Adopt(std::move(fd), socket_path, out);
}

NativeStatus HostConnection::Adopt(UniqueFd fd, const std::string& socket_path,
                                   std::unique_ptr<HostConnection>* out) {
  int ends[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, ends) < 0)
    return NativeStatus::FromErrno("socketpair", "host connection relay for " + socket_path);
  UniqueFd mine(ends[0]);
  UniqueFd theirs(ends[1]);
  wl_display* display = wl_display_connect_to_fd(theirs.get());
  if (display == nullptr) {
    return NativeStatus::FromErrno("wl_display_connect_to_fd",
                                   "wayland connection to " + socket_path);
  }
  (void)theirs.release();  // the wl_display owns it now and closes it on disconnect
  out->reset(new HostConnection(display, std::move(fd), std::move(mine)));
  return {};
}

HostConnection::HostConnection(wl_display* display, UniqueFd host, UniqueFd pair)
    : display_(display),
      host_(std::move(host)),
      pair_(std::move(pair)),
      in_(kInCapacity),
      out_(kOutCapacity) {}

HostConnection::~HostConnection() {
  if (display_ != nullptr) wl_display_disconnect(display_);
  CloseAll(&in_fds_);
  CloseAll(&out_fds_);
}

bool HostConnection::GetProtocolError(ProtocolError* out) const {
  if (taken_error_) {
    *out = taken_;
    return true;
  }
  if (wl_display_get_error(display_) != EPROTO || !refused_.empty()) return false;
  const wl_interface* interface = nullptr;
  out->id = 0;
  out->code = wl_display_get_protocol_error(display_, &interface, &out->id);
  out->interface = interface != nullptr ? interface->name : "";
  out->message.clear();
  // The log line of this error, if it is the last one the thread logged.
  const std::string prefix = (interface != nullptr ? out->interface : std::string("[unknown]")) +
                             "@" + std::to_string(out->id) + ": error " +
                             std::to_string(out->code) + ": ";
  const std::string line = last_log_line;
  if (line.compare(0, prefix.size(), prefix) == 0) {
    out->message = line.substr(prefix.size());
    while (!out->message.empty() && out->message.back() == '\n') out->message.pop_back();
  }
  return true;
}

std::string HostConnection::ErrorText() const {
  if (!taken_error_ && !refused_.empty()) return refused_;
  const int error = taken_error_ ? EPROTO : wl_display_get_error(display_);
  if (error == 0) return "no error";
  ProtocolError protocol;
  if (GetProtocolError(&protocol)) {
    return "host error " + std::to_string(protocol.code) + " on " +
           (protocol.interface.empty() ? std::string("unknown") : protocol.interface) + "@" +
           std::to_string(protocol.id) + ": " +
           (protocol.message.empty() ? std::string("(no text)") : protocol.message);
  }
  return std::string("host connection failed: ") + std::strerror(error);
}

NativeStatus HostConnection::ConnectionError(const char* what) const {
  if (taken_error_ || !refused_.empty()) return NativeStatus::Error(-EPROTO, what, ErrorText());
  const int error = wl_display_get_error(display_);
  return NativeStatus::Error(error > 0 ? -error : -EIO, what, ErrorText());
}

NativeStatus HostConnection::Refuse(std::string text) {
  if (refused_.empty()) refused_ = std::move(text);
  return NativeStatus::Error(-EPROTO, "wl_display_read_events", ErrorText());
}

NativeStatus HostConnection::DispatchPending() {
  if (taken_error_ || !refused_.empty()) return ConnectionError("wl_display_dispatch");
  if (wl_display_dispatch_pending(display_) < 0) return ConnectionError("wl_display_dispatch");
  return {};
}

// libwayland-client makes the proxies of the objects an event creates (a new_id argument:
// wl_data_device.data_offer, the tablet seat's devices) when it reads the event, but dispatches
// nothing once it has dispatched a wl_display.error, and it takes the display's events before
// any other: the objects made by events read in the same batch as an error are never
// dispatched, no call reaches them, and wl_display_disconnect does not free them (80 bytes
// each). A compositor sends nothing after a protocol error (libwayland-server drops events for
// a client in error), so the bridge takes the error from the bytes itself and hands libwayland
// nothing from that group on: the connection ends either way, and the events with it would only
// have reached a guest that is being ended.
bool HostConnection::TakeError(const uint8_t* message, size_t size) {
  if (size < 24) return false;
  const uint32_t length = Word(message, 16);
  if (length == 0 || 20 + ((static_cast<size_t>(length) + 3) & ~size_t{3}) != size ||
      message[20 + length - 1] != '\0')
    return false;
  taken_error_ = true;
  taken_.id = Word(message, 8);
  taken_.code = Word(message, 12);
  taken_.interface.clear();  // only libwayland knows the object's interface
  taken_.message.assign(reinterpret_cast<const char*>(message + 20), length - 1);
  return true;
}

void HostConnection::WatchEvents(uint32_t id, const wl_interface* interface) {
  watched_[id] = interface;
}

void HostConnection::UnwatchEvents(uint32_t id) {
  watched_.erase(id);
}

void HostConnection::HookEvents(uint32_t id, EventHook hook, void* data) {
  hooked_[id] = Hook{hook, data};
}

void HostConnection::UnhookEvents(uint32_t id) {
  hooked_.erase(id);
}

void HostConnection::ServerObjectDestroyed(uint32_t id) {
  if (id < kFirstServerId) return;
  // Bounded: the host makes its next objects with the ids it freed last, so ids leave this set
  // about as fast as they come, unless the host keeps making objects the watch does not see.
  if (destroyed_.size() >= 4096) destroyed_.erase(destroyed_.begin());
  destroyed_.insert(id);
}

// libwayland-client 1.21 keeps a zombie only for the ids a client made: destroying the proxy of
// a host-made object (a wl_data_offer, on the guest's destroy) maps its id to nothing at once.
// An event the host sent before it read the destroy and that names the object (a selection or
// a drag's enter naming an older offer, or an offer the bridge dropped for a data device the
// guest released) is then "unknown object": wl_display_read_events fails. Keeping the proxy
// until the host has read the destroy cannot work: the host reuses the id as soon as it has,
// and libwayland refuses a new object whose id is still mapped. So the bridge reads the watched
// events before libwayland does, and when one names an id it destroyed, before an event makes
// an object of that id again: where the argument may be null (a selection, an enter), it is
// made null — the object is gone for the guest as well —, and otherwise the connection ends
// with a clear text instead of the event being handed on.
bool HostConnection::TakeDeadReference(const wl_interface* interface, uint8_t* message, size_t size,
                                       std::string* what, bool* makes) {
  *makes = true;  // until read through
  const uint32_t object = Word(message, 0);
  const uint32_t opcode = Word(message, 4) & 0xffff;
  if (opcode >= static_cast<uint32_t>(interface->event_count)) return false;
  const wl_message& event = interface->events[opcode];
  bool made = false;
  size_t arg = 8;
  bool nullable = false;
  for (const char* type = event.signature; *type != '\0'; ++type) {
    if (*type >= '0' && *type <= '9') continue;
    if (*type == '?') {
      nullable = true;
      continue;
    }
    const bool may_be_null = nullable;
    nullable = false;
    if (*type == 'h') continue;  // an fd: no bytes
    if (size - arg < 4) return false;
    const uint32_t value = Word(message, arg);
    arg += 4;
    if (*type == 's' || *type == 'a') {
      const size_t padded = (static_cast<size_t>(value) + 3) & ~size_t{3};
      if (padded > size - arg) return false;
      arg += padded;
    } else if (*type == 'n') {
      made = true;
      destroyed_.erase(value);  // made again: names after this are of the new object
    } else if (*type == 'o' && value != 0 && destroyed_.count(value) != 0) {
      if (may_be_null) {
        // It may name no object: it names none (what it named is gone for the guest too).
        std::memset(message + arg - 4, 0, 4);
        ++nulled_;
        continue;
      }
      *what = std::string(interface->name) + "@" + std::to_string(object) + "." + event.name +
              " names object " + std::to_string(value) +
              ", which the bridge destroyed (the host sent it before it read the destroy)";
      return true;
    }
  }
  *makes = made;
  return false;
}

NativeStatus HostConnection::ReadHost(bool* more) {
  *more = false;
  if (host_hung_up_ || in_len_ == in_.size()) return {};
  bool truncated = false;
  const size_t space = in_.size() - in_len_;
  const size_t fds_before = in_fds_.size();
  const ssize_t got =
      RecvWithFds(host_.get(), in_.data() + in_len_, in_.size() - in_len_, &in_fds_, &truncated);
  if (got < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
    host_hung_up_ = true;  // libwayland learns it from its own end (Deliver)
    return {};
  }
  if (got == 0) {
    host_hung_up_ = true;
    return {};
  }
  *more = static_cast<size_t>(got) == space || in_fds_.size() != fds_before;
  in_len_ += static_cast<size_t>(got);
  if (truncated) {
    return Refuse("the host compositor sent more than " + std::to_string(kMaxFdsPerMessage) +
                  " fds in one message, which libwayland cannot take");
  }
  if (in_fds_.size() > kMaxFdsAhead) {
    return Refuse("the host compositor sent more than " + std::to_string(kMaxFdsAhead) +
                  " fds ahead of the messages that carry them");
  }
  return {};
}

NativeStatus HostConnection::Deliver() {
  for (;;) {
    size_t group = 0;
    bool ends = false;
    while (!ends && in_len_ - group >= 8) {
      uint8_t* message = in_.data() + group;
      const uint32_t object = Word(message, 0);
      const uint32_t opcode = Word(message, 4) & 0xffff;
      const size_t size = Word(message, 4) >> 16;
      if (size < 8 || size % 4 != 0 || size > kMaxMessage) {
        return Refuse("the host compositor sent a malformed message (object " +
                      std::to_string(object) + ", opcode " + std::to_string(opcode) + ", " +
                      std::to_string(size) + " bytes)");
      }
      if (size > in_len_ - group || group + size > kMaxMessage) break;
      if (group == 0 && !hooked_.empty()) {
        // First in its group: everything before it was dispatched, so a hook may take it.
        const auto hooked = hooked_.find(object);
        if (hooked != hooked_.end() && hooked->second.hook(hooked->second.data, message, size)) {
          std::memmove(in_.data(), in_.data() + size, in_len_ - size);
          in_len_ -= size;
          continue;
        }
      }
      if (object == 1 && opcode == 0) {
        if (TakeError(message, size))
          return NativeStatus::Error(-EPROTO, "wl_display_read_events", ErrorText());
        return Refuse("the host compositor sent a malformed wl_display.error (" +
                      std::to_string(size) + " bytes)");
      }
      const auto watched = watched_.find(object);
      if (watched != watched_.end()) {
        std::string what;
        if (TakeDeadReference(watched->second, message, size, &what, &ends))
          return Refuse(std::move(what));
      }
      group += size;
    }
    if (group == 0) break;
    NativeStatus status = HandOn(group);
    if (!status.ok()) return status;
  }
  if (host_hung_up_) {
    // libwayland reads the end of the stream from its own end and fails as it did on the host's.
    ::shutdown(pair_.get(), SHUT_WR);
    return ReadHandedOn(false);
  }
  return {};
}

NativeStatus HostConnection::HandOn(size_t size) {
  size_t sent_total = 0;
  int sends = 0;
  while (sent_total < size) {
    ++sends;
    const ssize_t sent =
        SendWithFds(pair_.get(), in_.data() + sent_total, size - sent_total, in_fds_);
    if (sent <= 0) {
      // Nothing is waiting on the pair (each group is read before the next), so it has room.
      return Refuse(std::string("handing host events to libwayland failed: ") +
                    (sent < 0 ? std::strerror(errno) : "nothing written"));
    }
    CloseSent(&in_fds_);
    sent_total += static_cast<size_t>(sent);
  }
  std::memmove(in_.data(), in_.data() + size, in_len_ - size);
  in_len_ -= size;
  return ReadHandedOn(sends > 1);
}

NativeStatus HostConnection::ReadHandedOn(bool split) {
  // One read takes a group written at once (at most libwayland's buffer, into an empty pair);
  // one written in parts may take more reads (a read stops after a part that carried fds), and
  // is read whole before the next group.
  for (;;) {
    while (wl_display_prepare_read(display_) != 0) {
      if (wl_display_dispatch_pending(display_) < 0) return ConnectionError("wl_display_dispatch");
    }
    if (wl_display_read_events(display_) < 0) return ConnectionError("wl_display_read_events");
    NativeStatus status = DispatchPending();
    if (!status.ok()) return status;
    int waiting = 0;
    if (!split || ::ioctl(wl_display_get_fd(display_), FIONREAD, &waiting) < 0 || waiting <= 0)
      return {};
  }
}

NativeStatus HostConnection::DispatchReadable() {
  // Ended (by the bridge, or by libwayland on what it was handed): nothing more is read.
  if (taken_error_ || !refused_.empty() || wl_display_get_error(display_) != 0)
    return ConnectionError("wl_display_read_events");
  // Reads again (at most 16 times: the loop polls the socket anyway) only when a read may have
  // left bytes: it filled the buffer, or stopped after fds.
  for (int reads = 0; reads < 16; ++reads) {
    bool more = false;
    NativeStatus status = ReadHost(&more);
    if (status.ok()) status = Deliver();
    if (!status.ok()) return status;
    if (!more) break;
  }
  return {};
}

NativeStatus HostConnection::PumpOut() {
  for (;;) {
    while (out_sent_ < out_len_) {
      const ssize_t sent =
          SendWithFds(host_.get(), out_.data() + out_sent_, out_len_ - out_sent_, out_fds_);
      if (sent < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return {};
        return Refuse(std::string("writing to the host compositor failed: ") +
                      std::strerror(errno));
      }
      CloseSent(&out_fds_);  // the host has its own copies now
      out_sent_ += static_cast<size_t>(sent);
    }
    out_sent_ = out_len_ = 0;
    if (!pair_unread_) return {};
    const size_t fds_before = out_fds_.size();
    const ssize_t got = RecvWithFds(pair_.get(), out_.data(), out_.size(), &out_fds_);
    if (got <= 0) {
      pair_unread_ = false;  // EAGAIN: libwayland wrote nothing more
      return {};
    }
    out_len_ = static_cast<size_t>(got);
    // A read short of the buffer took all there was, unless it stopped after fds (a read does).
    pair_unread_ = out_len_ == out_.size() || out_fds_.size() != fds_before;
  }
}

NativeStatus HostConnection::Flush(bool* blocked) {
  *blocked = false;
  if (taken_error_ || !refused_.empty()) return ConnectionError("wl_display_flush");
  for (;;) {
    const int flushed = wl_display_flush(display_);
    const bool pair_full = flushed < 0 && errno == EAGAIN && wl_display_get_error(display_) == 0;
    if (flushed < 0 && !pair_full) return ConnectionError("wl_display_flush");
    // libwayland writes to the pair only here, or when a request does not fit its buffer: then
    // that request is left in the buffer, and this flush writes it.
    if (flushed != 0) pair_unread_ = true;
    NativeStatus status = PumpOut();
    if (!status.ok()) return status;
    if (out_sent_ < out_len_) {
      *blocked = true;
      return {};
    }
    if (!pair_full) return {};
    // The pair was full and is empty now: libwayland's rest goes the same way.
  }
}

NativeStatus HostConnection::Roundtrip(int wake_fd, int timeout_ms) {
  bool done = false;
  wl_callback* callback = wl_display_sync(display_);
  if (callback == nullptr) return NativeStatus::FromErrno("wl_display_sync", "host sync");
  wl_callback_add_listener(callback, &kSyncListener, &done);
  // Every way out but the answer destroys the callback unless its answer came (SyncDone
  // destroyed it). wl_display_disconnect frees no proxy, and destroying it drops a late answer,
  // so the listener never sees this dead frame.
  auto fail = [&](NativeStatus status) {
    if (!done) wl_callback_destroy(callback);
    return status;
  };
  const int64_t deadline = MonotonicMs() + timeout_ms;
  NativeStatus status = DispatchPending();
  if (!status.ok()) return fail(status);
  while (!done) {
    bool blocked = false;
    status = Flush(&blocked);
    if (!status.ok()) return fail(status);
    const int64_t remaining = deadline - MonotonicMs();
    if (remaining <= 0) {
      return fail(NativeStatus::Error(-ETIMEDOUT, "poll", "host compositor did not answer a sync"));
    }
    struct pollfd fds[2] = {{fd(), static_cast<short>(POLLIN | (blocked ? POLLOUT : 0)), 0},
                            {wake_fd, POLLIN, 0}};
    const int ready = ::poll(fds, 2, static_cast<int>(remaining));
    if (ready < 0 && errno != EINTR)
      return fail(NativeStatus::FromErrno("poll", "waiting for the host compositor"));
    if (ready > 0 && (fds[1].revents & POLLIN) != 0)
      return fail(NativeStatus::Error(-ECANCELED, "poll", "the bridge is stopping"));
    if (ready > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      status = DispatchReadable();  // the same checks as the event loop's reads
      if (!status.ok()) return fail(status);
    }
  }
  return {};
}

}  // namespace bridge
}  // namespace droidway
