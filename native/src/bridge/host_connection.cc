#include "host_connection.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <mutex>

#include "../unique_fd.h"
#include "wayland_headers.h"

namespace droidway {
namespace bridge {
namespace {

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
  wl_display* display = wl_display_connect_to_fd(fd.get());
  if (display == nullptr) {
    return NativeStatus::FromErrno("wl_display_connect_to_fd",
                                   "wayland connection to " + socket_path);
  }
  (void)fd.release();  // the wl_display owns it now and closes it on disconnect
  out->reset(new HostConnection(display));
  return {};
}

HostConnection::~HostConnection() {
  if (display_ != nullptr) wl_display_disconnect(display_);
}

int HostConnection::fd() const {
  return wl_display_get_fd(display_);
}

bool HostConnection::GetProtocolError(ProtocolError* out) const {
  if (taken_error_) {
    *out = taken_;
    return true;
  }
  if (wl_display_get_error(display_) != EPROTO) return false;
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
  if (!taken_error_ && !dead_reference_.empty()) return dead_reference_;
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
  const int error = wl_display_get_error(display_);
  return NativeStatus::Error(error > 0 ? -error : -EIO, what, ErrorText());
}

NativeStatus HostConnection::DispatchPending() {
  if (wl_display_dispatch_pending(display_) < 0) return ConnectionError("wl_display_dispatch");
  return {};
}

// libwayland-client makes the proxies of the objects an event creates (a new_id argument:
// wl_data_device.data_offer, the tablet seat's devices) when it reads the event, but dispatches
// nothing once it has dispatched a wl_display.error, and it takes the display's events before
// any other: the objects made by events read in the same batch as an error are never
// dispatched, no call reaches them, and wl_display_disconnect does not free them (80 bytes
// each). A compositor sends nothing after a protocol error (libwayland-server drops events for
// a client in error), so when the bytes waiting end with one, the bridge takes the error from
// them and leaves the batch unread: the connection ends either way, and the events before the
// error would only have reached a guest that is being ended.
bool HostConnection::TakeTrailingError(const uint8_t* bytes, size_t total) {
  if (total < 24) return false;
  auto word = [&](size_t at) {
    uint32_t value;
    std::memcpy(&value, bytes + at, sizeof value);
    return value;
  };
  // The messages from the first byte on (the bytes libwayland has not read start at a message
  // unless it holds part of one: then the sizes read here make no sense and nothing is taken),
  // the last of them a wl_display.error (object 1, opcode 0) ending where the bytes end.
  size_t at = 0;
  size_t size = 0;
  while (at < total) {
    if (total - at < 8) return false;
    size = word(at + 4) >> 16;
    if (size < 8 || size % 4 != 0 || size > total - at) return false;
    if (at + size == total) break;
    at += size;
  }
  if (word(at) != 1 || (word(at + 4) & 0xffff) != 0 || size < 24) return false;
  const uint32_t length = word(at + 16);
  if (length == 0 || 20 + ((static_cast<size_t>(length) + 3) & ~size_t{3}) != size ||
      bytes[at + 20 + length - 1] != '\0')
    return false;
  taken_error_ = true;
  taken_.id = word(at + 8);
  taken_.code = word(at + 12);
  taken_.interface.clear();  // only libwayland knows the object's interface
  taken_.message.assign(reinterpret_cast<const char*>(bytes + at + 20), length - 1);
  return true;
}

void HostConnection::WatchEvents(uint32_t id, const wl_interface* interface) {
  watched_[id] = interface;
}

void HostConnection::UnwatchEvents(uint32_t id) {
  watched_.erase(id);
}

void HostConnection::ServerObjectDestroyed(uint32_t id) {
  // Bounded: the host makes its next objects with the ids it freed last, so ids leave this set
  // about as fast as they come, unless the host keeps making objects the watch does not see.
  if (destroyed_.size() >= 4096) destroyed_.erase(destroyed_.begin());
  destroyed_.insert(id);
}

// libwayland-client 1.21 keeps a zombie only for the ids a client made: destroying the proxy of
// a host-made object (a wl_data_offer, on the guest's destroy) maps its id to nothing at once.
// An event the host sent before it read the destroy and that names the object (a selection or
// a drag's enter naming an older offer) is then "unknown object": wl_display_read_events fails
// and the objects made by the events read before it in the same batch are never dispatched nor
// freed. Keeping the proxy until the host has read the destroy cannot work: the host reuses the
// id as soon as it has, and libwayland refuses a new object whose id is still mapped, while it
// reads a whole batch (old name and reuse alike) before the bridge can act on any of it. So the
// bridge reads the watched events (those that may name such an object: the data devices') of
// the bytes waiting before libwayland does, as it does for a trailing error, and when one names
// an id it destroyed, before an event of the same bytes makes an object of that id again, it
// ends the connection without handing libwayland the batch: the read would fail the same way,
// but the events before it would leak. A compositor hardly does this (it names a new offer in
// each selection and enter, sent with it), and a client of its own would be ended the same way.
bool HostConnection::TakeDeadReference(const uint8_t* bytes, size_t total, std::string* what) {
  if (destroyed_.empty() || watched_.empty()) return false;
  auto word = [&](size_t at) {
    uint32_t value;
    std::memcpy(&value, bytes + at, sizeof value);
    return value;
  };
  size_t at = 0;
  while (total - at >= 8) {
    const uint32_t object = word(at);
    const uint32_t opcode = word(at + 4) & 0xffff;
    const size_t size = word(at + 4) >> 16;
    if (size < 8 || size % 4 != 0) return false;  // not at a message: leave it to libwayland
    if (size > total - at) return false;          // the rest comes later
    const auto watched = watched_.find(object);
    if (watched != watched_.end() && opcode < static_cast<uint32_t>(watched->second->event_count)) {
      const wl_message& message = watched->second->events[opcode];
      size_t arg = at + 8;
      const size_t end = at + size;
      for (const char* type = message.signature; *type != '\0'; ++type) {
        if (*type == '?' || (*type >= '0' && *type <= '9')) continue;
        if (*type == 'h') continue;  // an fd: no bytes
        if (end - arg < 4) return false;
        const uint32_t value = word(arg);
        arg += 4;
        if (*type == 's' || *type == 'a') {
          const size_t padded = (static_cast<size_t>(value) + 3) & ~size_t{3};
          if (padded > end - arg) return false;
          arg += padded;
        } else if (*type == 'n') {
          destroyed_.erase(value);  // made again: names after this are of the new object
        } else if (*type == 'o' && value != 0 && destroyed_.count(value) != 0) {
          *what = std::string(watched->second->name) + "@" + std::to_string(object) + "." +
                  message.name + " names object " + std::to_string(value) +
                  ", which the bridge destroyed (the host sent it before it read the destroy)";
          return true;
        }
      }
    }
    at += size;
  }
  return false;
}

NativeStatus HostConnection::CheckWaiting() {
  // libwayland-client 1.21 reads at most 4 KiB at a time, and a read stops after a message
  // with fds; what lies past what it reads now is seen next time. (Bytes arriving between this
  // peek and its read are read unseen.)
  uint8_t bytes[4096];
  ssize_t got;
  do {
    got = ::recv(fd(), bytes, sizeof bytes, MSG_PEEK | MSG_DONTWAIT);
  } while (got < 0 && errno == EINTR);
  if (got <= 0) return {};
  const size_t total = static_cast<size_t>(got);
  if (TakeTrailingError(bytes, total))
    return NativeStatus::Error(-EPROTO, "wl_display_read_events", ErrorText());
  if (TakeDeadReference(bytes, total, &dead_reference_))
    return NativeStatus::Error(-EPROTO, "wl_display_read_events", dead_reference_);
  return {};
}

NativeStatus HostConnection::DispatchReadable() {
  while (wl_display_prepare_read(display_) != 0) {
    if (wl_display_dispatch_pending(display_) < 0) return ConnectionError("wl_display_dispatch");
  }
  NativeStatus checked = CheckWaiting();
  if (!checked.ok()) {
    wl_display_cancel_read(display_);
    return checked;
  }
  if (wl_display_read_events(display_) < 0) return ConnectionError("wl_display_read_events");
  return DispatchPending();
}

NativeStatus HostConnection::Flush(bool* blocked) {
  *blocked = false;
  if (wl_display_flush(display_) < 0) {
    if (errno == EAGAIN && wl_display_get_error(display_) == 0) {
      *blocked = true;
      return {};
    }
    return ConnectionError("wl_display_flush");
  }
  return {};
}

NativeStatus HostConnection::Roundtrip(int wake_fd, int timeout_ms) {
  bool done = false;
  wl_callback* callback = wl_display_sync(display_);
  if (callback == nullptr) return NativeStatus::FromErrno("wl_display_sync", "host sync");
  wl_callback_add_listener(callback, &kSyncListener, &done);
  // Every way out but the answer: the read given up if prepared, the callback destroyed unless
  // its answer came (SyncDone destroyed it). wl_display_disconnect frees no proxy, and
  // destroying it drops a late answer, so the listener never sees this dead frame.
  auto fail = [&](NativeStatus status, bool prepared) {
    if (prepared) wl_display_cancel_read(display_);
    if (!done) wl_callback_destroy(callback);
    return status;
  };
  const int64_t deadline = MonotonicMs() + timeout_ms;
  while (!done) {
    if (wl_display_prepare_read(display_) != 0) {
      NativeStatus status = DispatchPending();
      if (!status.ok()) return fail(status, false);
      continue;
    }
    bool blocked = false;
    NativeStatus status = Flush(&blocked);
    if (!status.ok()) return fail(status, true);
    const int64_t remaining = deadline - MonotonicMs();
    if (remaining <= 0) {
      return fail(NativeStatus::Error(-ETIMEDOUT, "poll", "host compositor did not answer a sync"),
                  true);
    }
    struct pollfd fds[2] = {{fd(), static_cast<short>(POLLIN | (blocked ? POLLOUT : 0)), 0},
                            {wake_fd, POLLIN, 0}};
    const int ready = ::poll(fds, 2, static_cast<int>(remaining));
    if (ready < 0 && errno != EINTR)
      return fail(NativeStatus::FromErrno("poll", "waiting for the host compositor"), true);
    if (ready > 0 && (fds[1].revents & POLLIN) != 0)
      return fail(NativeStatus::Error(-ECANCELED, "poll", "the bridge is stopping"), true);
    if (ready > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      // The same checks as DispatchReadable's.
      status = CheckWaiting();
      if (!status.ok()) return fail(status, true);
      if (wl_display_read_events(display_) < 0)
        return fail(ConnectionError("wl_display_read_events"), false);
      status = DispatchPending();
      if (!status.ok()) return fail(status, false);
    } else {
      wl_display_cancel_read(display_);
    }
  }
  return {};
}

}  // namespace bridge
}  // namespace droidway
