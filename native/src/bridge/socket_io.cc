#include "socket_io.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace droidway {
namespace bridge {

ssize_t RecvWithFds(int fd, void* data, size_t size, std::vector<int>* fds, bool* truncated) {
  struct iovec iov = {data, size};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsPerMessage)];
  struct msghdr message;
  std::memset(&message, 0, sizeof message);
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = CMSG_LEN(sizeof(int) * kMaxFdsPerMessage);  // libwayland's CLEN
  ssize_t got;
  do {
    got = ::recvmsg(fd, &message, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  } while (got < 0 && errno == EINTR);
  if (got < 0) return got;
  if (truncated != nullptr) *truncated = (message.msg_flags & MSG_CTRUNC) != 0;
  for (struct cmsghdr* cmsg = CMSG_FIRSTHDR(&message); cmsg != nullptr;
       cmsg = CMSG_NXTHDR(&message, cmsg)) {
    if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS) continue;
    const size_t count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    const auto* received = reinterpret_cast<const unsigned char*>(CMSG_DATA(cmsg));
    for (size_t i = 0; i < count; ++i) {
      int received_fd;
      std::memcpy(&received_fd, received + i * sizeof(int), sizeof(int));
      fds->push_back(received_fd);
    }
  }
  return got;
}

ssize_t SendWithFds(int fd, const void* data, size_t size, const std::vector<int>& fds,
                    size_t max_fds) {
  struct iovec iov = {const_cast<void*>(data), size};
  alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFdsForTests)];
  struct msghdr message;
  std::memset(&message, 0, sizeof message);
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  const size_t limit = max_fds < kMaxFdsForTests ? max_fds : kMaxFdsForTests;
  const size_t count = fds.size() < limit ? fds.size() : limit;
  if (count > 0) {
    message.msg_control = control;
    message.msg_controllen = CMSG_SPACE(sizeof(int) * count);
    struct cmsghdr* cmsg = CMSG_FIRSTHDR(&message);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(int) * count);
    std::memcpy(CMSG_DATA(cmsg), fds.data(), sizeof(int) * count);
  }
  ssize_t sent;
  do {
    sent = ::sendmsg(fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
  } while (sent < 0 && errno == EINTR);
  return sent;
}

void CloseAll(std::vector<int>* fds) {
  for (int fd : *fds) ::close(fd);
  fds->clear();
}

void CloseSent(std::vector<int>* fds) {
  const size_t count = fds->size() < kMaxFdsPerMessage ? fds->size() : kMaxFdsPerMessage;
  for (size_t i = 0; i < count; ++i) ::close((*fds)[i]);
  fds->erase(fds->begin(), fds->begin() + static_cast<std::ptrdiff_t>(count));
}

}  // namespace bridge
}  // namespace droidway
