#include "fd_passing.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "js_args.h"

namespace droidway {
namespace {

int64_t MonotonicMs() {
  struct timespec now;
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1000000;
}

// Waits until `events` are ready on `fd` or `deadline_ms` (CLOCK_MONOTONIC) passes. Signals
// (EINTR) only shorten a poll round; the deadline stays the same.
NativeStatus WaitReady(int fd, short events, int64_t deadline_ms, const char* what) {
  for (;;) {
    const int64_t remaining = deadline_ms - MonotonicMs();
    struct pollfd entry = {fd, events, 0};
    const int ready = ::poll(&entry, 1, remaining > 0 ? static_cast<int>(remaining) : 0);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return NativeStatus::FromErrno("poll", std::string("wait to ") + what);
    }
    if (ready == 0) {
      return NativeStatus::Error(-ETIMEDOUT, "poll", std::string("timed out waiting to ") + what);
    }
    if ((entry.revents & POLLNVAL) != 0) {
      return NativeStatus::Error(-EBADF, "poll", std::string("wait to ") + what);
    }
    // POLLERR/POLLHUP also end the wait: the next sendmsg/recvmsg reports what happened.
    return {};
  }
}

}  // namespace

NativeStatus FdPassing::Send(int socket_fd, const std::vector<uint8_t>& data,
                             const std::vector<int>& fds, int timeout_ms, size_t* sent) {
  *sent = 0;
  if (data.empty() || data.size() > kMaxMessageBytes || fds.size() > kMaxFdsPerMessage) {
    return NativeStatus::Error(-EINVAL, "sendmsg", "invalid message size or fd count");
  }
  const int64_t deadline = MonotonicMs() + timeout_ms;
  alignas(struct cmsghdr) char control[CMSG_SPACE(kMaxFdsPerMessage * sizeof(int))];
  bool fds_attached = false;

  while (*sent < data.size()) {
    struct iovec iov;
    iov.iov_base = const_cast<uint8_t*>(data.data() + *sent);
    iov.iov_len = data.size() - *sent;
    struct msghdr message = {};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    if (!fds_attached && !fds.empty()) {
      const size_t fd_bytes = fds.size() * sizeof(int);
      std::memset(control, 0, sizeof control);
      message.msg_control = control;
      message.msg_controllen = CMSG_SPACE(fd_bytes);
      struct cmsghdr* header = CMSG_FIRSTHDR(&message);
      header->cmsg_level = SOL_SOCKET;
      header->cmsg_type = SCM_RIGHTS;
      header->cmsg_len = CMSG_LEN(fd_bytes);
      std::memcpy(CMSG_DATA(header), fds.data(), fd_bytes);
    }

    const ssize_t count = ::sendmsg(socket_fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (count < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        NativeStatus status = WaitReady(socket_fd, POLLOUT, deadline, "send");
        if (!status.ok()) return status;
        continue;
      }
      return NativeStatus::FromErrno("sendmsg",
                                     "send " + std::to_string(iov.iov_len) + " bytes with " +
                                         std::to_string(fds_attached ? 0 : fds.size()) + " fds");
    }
    // The fds travel with the first byte the kernel accepted; a stream remainder goes without.
    fds_attached = true;
    *sent += static_cast<size_t>(count);
  }
  return {};
}

NativeStatus FdPassing::Receive(int socket_fd, size_t max_bytes, size_t max_fds, int timeout_ms,
                                FdMessage* out) {
  *out = FdMessage();
  if (max_bytes == 0 || max_bytes > kMaxMessageBytes || max_fds > kMaxFdsPerMessage) {
    return NativeStatus::Error(-EINVAL, "recvmsg", "invalid byte or fd limit");
  }
  const int64_t deadline = MonotonicMs() + timeout_ms;
  out->data.resize(max_bytes);
  // Always room for the kernel's maximum, whatever max_fds is: fds that do not fit the control
  // buffer are discarded by the kernel (MSG_CTRUNC) where nobody can count them.
  alignas(struct cmsghdr) char control[CMSG_SPACE(kMaxFdsPerMessage * sizeof(int))];

  struct msghdr message;
  ssize_t count;
  for (;;) {
    struct iovec iov = {out->data.data(), max_bytes};
    message = {};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    count = ::recvmsg(socket_fd, &message, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (count >= 0) break;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      NativeStatus status = WaitReady(socket_fd, POLLIN, deadline, "receive");
      if (!status.ok()) return status;
      continue;
    }
    return NativeStatus::FromErrno("recvmsg",
                                   "receive up to " + std::to_string(max_bytes) + " bytes");
  }

  for (struct cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    const size_t fd_count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const unsigned char* payload = CMSG_DATA(header);
    for (size_t i = 0; i < fd_count; ++i) {
      int fd;
      std::memcpy(&fd, payload + i * sizeof(int), sizeof(int));  // CMSG_DATA may be unaligned
      UniqueFd owned(fd);
      if (out->fds.size() < max_fds) {
        out->fds.push_back(std::move(owned));
      } else {
        ++out->fds_dropped;  // `owned` closes it
      }
    }
  }
  out->data.resize(static_cast<size_t>(count));
  out->control_truncated = (message.msg_flags & MSG_CTRUNC) != 0;
  out->data_truncated = (message.msg_flags & MSG_TRUNC) != 0;
  return {};
}

NativeStatus FdPassing::SocketPair(int type, UniqueFd* first, UniqueFd* second) {
  int fds[2];
  if (::socketpair(AF_UNIX, type | SOCK_CLOEXEC, 0, fds) < 0) {
    return NativeStatus::FromErrno("socketpair", "socketpair(AF_UNIX)");
  }
  first->reset(fds[0]);
  second->reset(fds[1]);
  return {};
}

NativeStatus FdPassing::PeerCredentials(int socket_fd, struct ucred* credentials) {
  socklen_t length = sizeof *credentials;
  if (::getsockopt(socket_fd, SOL_SOCKET, SO_PEERCRED, credentials, &length) < 0) {
    return NativeStatus::FromErrno("getsockopt", "SO_PEERCRED");
  }
  return {};
}

namespace {

/** Runs FdPassing::Send on the thread pool and settles a promise with the bytes sent. */
class SendWorker : public Napi::AsyncWorker {
 public:
  SendWorker(Napi::Env env, int socket_fd, std::vector<uint8_t> data, std::vector<int> fds,
             int timeout_ms)
      : Napi::AsyncWorker(env, "droidway.sendMessage"),
        deferred_(Napi::Promise::Deferred::New(env)),
        socket_fd_(socket_fd),
        data_(std::move(data)),
        fds_(std::move(fds)),
        timeout_ms_(timeout_ms) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    status_ = FdPassing::Send(socket_fd_, data_, fds_, timeout_ms_, &sent_);
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (!status_.ok()) {
      deferred_.Reject(status_.ToJsError(env).Value());
      return;
    }
    deferred_.Resolve(Napi::Number::New(env, static_cast<double>(sent_)));
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  int socket_fd_;
  std::vector<uint8_t> data_;
  std::vector<int> fds_;
  int timeout_ms_;
  size_t sent_ = 0;
  NativeStatus status_;
};

/** Runs FdPassing::Receive on the thread pool; hands the fds to JS only once the result exists. */
class RecvWorker : public Napi::AsyncWorker {
 public:
  RecvWorker(Napi::Env env, int socket_fd, size_t max_bytes, size_t max_fds, int timeout_ms)
      : Napi::AsyncWorker(env, "droidway.recvMessage"),
        deferred_(Napi::Promise::Deferred::New(env)),
        socket_fd_(socket_fd),
        max_bytes_(max_bytes),
        max_fds_(max_fds),
        timeout_ms_(timeout_ms) {}

  Napi::Promise Promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    status_ = FdPassing::Receive(socket_fd_, max_bytes_, max_fds_, timeout_ms_, &message_);
  }

  void OnOK() override {
    Napi::Env env = Env();
    if (!status_.ok()) {
      deferred_.Reject(status_.ToJsError(env).Value());
      return;
    }
    Napi::Object result;
    try {
      result = Napi::Object::New(env);
      result.Set("data",
                 Napi::Buffer<uint8_t>::Copy(env, message_.data.data(), message_.data.size()));
      Napi::Array fds = Napi::Array::New(env, message_.fds.size());
      for (size_t i = 0; i < message_.fds.size(); ++i) {
        fds.Set(static_cast<uint32_t>(i), Napi::Number::New(env, message_.fds[i].get()));
      }
      result.Set("fds", fds);
      result.Set("fdsDropped", Napi::Number::New(env, message_.fds_dropped));
      result.Set("controlTruncated", Napi::Boolean::New(env, message_.control_truncated));
      result.Set("dataTruncated", Napi::Boolean::New(env, message_.data_truncated));
    } catch (const Napi::Error& error) {
      deferred_.Reject(error.Value());  // message_ still owns the fds and closes them
      return;
    }
    for (UniqueFd& fd : message_.fds) (void)fd.release();  // now owned by JS
    deferred_.Resolve(result);
  }

  void OnError(const Napi::Error& error) override { deferred_.Reject(error.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  int socket_fd_;
  size_t max_bytes_;
  size_t max_fds_;
  int timeout_ms_;
  FdMessage message_;
  NativeStatus status_;
};

constexpr int64_t kMaxTimeoutMs = 2147483647;  // poll() takes an int

Napi::Value JsSocketPair(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  JsArgs args(info);
  args.ExpectCount(1);
  const std::string type = args.Choice(0, "type", {"stream", "seqpacket"});
  UniqueFd first;
  UniqueFd second;
  FdPassing::SocketPair(type == "stream" ? SOCK_STREAM : SOCK_SEQPACKET, &first, &second)
      .ThrowIfError(env);
  Napi::Array result = Napi::Array::New(env, 2);
  result.Set(0u, Napi::Number::New(env, first.get()));
  result.Set(1u, Napi::Number::New(env, second.get()));
  (void)first.release();
  (void)second.release();
  return result;
}

Napi::Value JsSendMessage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  JsArgs args(info);
  args.ExpectCount(4);
  const int socket_fd = args.Fd(0, "socketFd");
  std::vector<uint8_t> data = args.Bytes(1, "data", 1, FdPassing::kMaxMessageBytes);
  std::vector<int> fds = args.FdArray(2, "fds", FdPassing::kMaxFdsPerMessage);
  const auto timeout_ms = static_cast<int>(args.Integer(3, "timeoutMs", 0, kMaxTimeoutMs));
  auto* worker = new SendWorker(env, socket_fd, std::move(data), std::move(fds), timeout_ms);
  Napi::Promise promise = worker->Promise();
  worker->Queue();  // the worker deletes itself after OnOK/OnError
  return promise;
}

Napi::Value JsRecvMessage(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  JsArgs args(info);
  args.ExpectCount(4);
  const int socket_fd = args.Fd(0, "socketFd");
  const auto max_bytes = static_cast<size_t>(
      args.Integer(1, "maxBytes", 1, static_cast<int64_t>(FdPassing::kMaxMessageBytes)));
  const auto max_fds = static_cast<size_t>(
      args.Integer(2, "maxFds", 0, static_cast<int64_t>(FdPassing::kMaxFdsPerMessage)));
  const auto timeout_ms = static_cast<int>(args.Integer(3, "timeoutMs", 0, kMaxTimeoutMs));
  auto* worker = new RecvWorker(env, socket_fd, max_bytes, max_fds, timeout_ms);
  Napi::Promise promise = worker->Promise();
  worker->Queue();
  return promise;
}

Napi::Value JsPeerCredentials(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  JsArgs args(info);
  args.ExpectCount(1);
  struct ucred credentials = {};
  FdPassing::PeerCredentials(args.Fd(0, "socketFd"), &credentials).ThrowIfError(env);
  Napi::Object result = Napi::Object::New(env);
  result.Set("pid", Napi::Number::New(env, credentials.pid));
  result.Set("uid", Napi::Number::New(env, credentials.uid));
  result.Set("gid", Napi::Number::New(env, credentials.gid));
  return result;
}

}  // namespace

void FdPassing::Register(Napi::Env env, Napi::Object exports) {
  exports.Set("socketPair", Napi::Function::New(env, JsSocketPair, "socketPair"));
  exports.Set("sendMessage", Napi::Function::New(env, JsSendMessage, "sendMessage"));
  exports.Set("recvMessage", Napi::Function::New(env, JsRecvMessage, "recvMessage"));
  exports.Set("peerCredentials", Napi::Function::New(env, JsPeerCredentials, "peerCredentials"));
}

}  // namespace droidway
