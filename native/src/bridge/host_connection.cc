#include "host_connection.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include <cerrno>
#include <cstring>

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

}  // namespace

NativeStatus HostConnection::Connect(const std::string& socket_path,
                                     std::unique_ptr<HostConnection>* out,
                                     const Connector& connector) {
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

std::string HostConnection::ErrorText() const {
  const int error = wl_display_get_error(display_);
  if (error == 0) return "no error";
  if (error == EPROTO) {
    const wl_interface* interface = nullptr;
    uint32_t id = 0;
    const uint32_t code = wl_display_get_protocol_error(display_, &interface, &id);
    return std::string("host protocol error ") + std::to_string(code) + " on " +
           (interface != nullptr ? interface->name : "unknown") + "@" + std::to_string(id);
  }
  return std::string("host connection error: ") + std::strerror(error);
}

NativeStatus HostConnection::ConnectionError(const char* what) const {
  const int error = wl_display_get_error(display_);
  return NativeStatus::Error(error > 0 ? -error : -EIO, what, ErrorText());
}

NativeStatus HostConnection::DispatchPending() {
  if (wl_display_dispatch_pending(display_) < 0) return ConnectionError("wl_display_dispatch");
  return {};
}

NativeStatus HostConnection::DispatchReadable() {
  while (wl_display_prepare_read(display_) != 0) {
    if (wl_display_dispatch_pending(display_) < 0) return ConnectionError("wl_display_dispatch");
  }
  if (wl_display_read_events(display_) < 0) return ConnectionError("wl_display_read_events");
  return DispatchPending();
}

NativeStatus HostConnection::Flush(bool* blocked) {
  *blocked = false;
  if (wl_display_flush(display_) < 0) {
    if (errno == EAGAIN) {
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
  const int64_t deadline = MonotonicMs() + timeout_ms;
  while (!done) {
    if (wl_display_prepare_read(display_) != 0) {
      NativeStatus status = DispatchPending();
      if (!status.ok()) return status;  // the callback dies with the connection
      continue;
    }
    bool blocked = false;
    NativeStatus status = Flush(&blocked);
    if (!status.ok()) {
      wl_display_cancel_read(display_);
      return status;
    }
    const int64_t remaining = deadline - MonotonicMs();
    if (remaining <= 0) {
      wl_display_cancel_read(display_);
      // Destroying the proxy drops a late answer, so the listener never sees this dead frame.
      wl_callback_destroy(callback);
      return NativeStatus::Error(-ETIMEDOUT, "poll", "host compositor did not answer a sync");
    }
    struct pollfd fds[2] = {{fd(), static_cast<short>(POLLIN | (blocked ? POLLOUT : 0)), 0},
                            {wake_fd, POLLIN, 0}};
    const int ready = ::poll(fds, 2, static_cast<int>(remaining));
    if (ready < 0 && errno != EINTR) {
      wl_display_cancel_read(display_);
      return NativeStatus::FromErrno("poll", "waiting for the host compositor");
    }
    if (ready > 0 && (fds[1].revents & POLLIN) != 0) {
      wl_display_cancel_read(display_);
      wl_callback_destroy(callback);
      return NativeStatus::Error(-ECANCELED, "poll", "the bridge is stopping");
    }
    if (ready > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
      if (wl_display_read_events(display_) < 0) return ConnectionError("wl_display_read_events");
      status = DispatchPending();
      if (!status.ok()) return status;
    } else {
      wl_display_cancel_read(display_);
    }
  }
  return {};
}

}  // namespace bridge
}  // namespace droidway
