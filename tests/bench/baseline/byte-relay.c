// The least a process in the middle can do, as the bridge benchmark's second baseline: accept
// Wayland clients one at a time and pump bytes and fds both ways between each and the
// compositor, parsing nothing and checking nothing. What it costs is what any relay process
// costs on the machine (its wake-ups), not the bridge's work.
//
//   byte-relay LISTEN_SOCKET HOST_SOCKET     prints "ready" once listening
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int pump(int from, int to) {
  char buf[65536];
  char control[CMSG_SPACE(sizeof(int) * 28)];
  struct iovec iov = {buf, sizeof buf};
  struct msghdr m = {0};
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = control;
  m.msg_controllen = sizeof control;
  ssize_t n = recvmsg(from, &m, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
  if (n == 0) return -1;
  if (n < 0) return errno == EAGAIN ? 0 : -1;
  struct msghdr o = {0};
  struct iovec oiov = {buf, (size_t)n};
  o.msg_iov = &oiov;
  o.msg_iovlen = 1;
  if (m.msg_controllen > 0) {
    o.msg_control = control;
    o.msg_controllen = m.msg_controllen;
  }
  size_t off = 0;
  while (off < (size_t)n) {
    oiov.iov_base = buf + off;
    oiov.iov_len = n - off;
    ssize_t s = sendmsg(to, &o, MSG_NOSIGNAL);
    if (s < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    off += s;
    o.msg_control = NULL;
    o.msg_controllen = 0;
  }
  struct cmsghdr* c = CMSG_FIRSTHDR(&m);
  if (c && c->cmsg_type == SCM_RIGHTS) {
    int k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int* fds = (int*)CMSG_DATA(c);
    for (int i = 0; i < k; i++) close(fds[i]);
  }
  return 1;
}

int main(int argc, char** argv) {
  if (argc != 3 || strlen(argv[1]) >= sizeof(struct sockaddr_un) - sizeof(sa_family_t) ||
      strlen(argv[2]) >= sizeof(struct sockaddr_un) - sizeof(sa_family_t))
    return 2;
  int l = socket(AF_UNIX, SOCK_STREAM, 0);
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  strcpy(a.sun_path, argv[1]);
  unlink(argv[1]);
  if (bind(l, (void*)&a, sizeof a) || listen(l, 8)) return 1;
  printf("ready\n");
  fflush(stdout);
  for (;;) {
    int c = accept(l, NULL, NULL);
    int h = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un b = {.sun_family = AF_UNIX};
    strcpy(b.sun_path, argv[2]);
    if (connect(h, (void*)&b, sizeof b)) return 1;
    struct pollfd p[2] = {{c, POLLIN, 0}, {h, POLLIN, 0}};
    for (;;) {
      if (poll(p, 2, -1) < 0) break;
      if (p[0].revents && pump(c, h) < 0) break;
      if (p[1].revents && pump(h, c) < 0) break;
    }
    close(c);
    close(h);
  }
}
