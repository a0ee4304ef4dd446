// Baseline for the shared-memory benchmark: the same operations as Droidway's native module,
// written directly against the kernel, so the benchmark reports the cost of the Node-API path
// as a ratio measured in the same run.
//
// usage: shm-baseline create|pass ITERATIONS   -> prints nanoseconds per operation
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int create_region(void) {
  int fd = memfd_create("bench", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return -1;
  if (ftruncate(fd, 65536) < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_GROW | F_SEAL_SHRINK) < 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static int send_fd(int sock, int fd) {
  char data[64] = {1};
  struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

static int recv_fd(int sock) {
  char data[64];
  struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
  union {
    char buf[CMSG_SPACE(253 * sizeof(int))];
    struct cmsghdr align;
  } u;
  struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof u.buf};
  if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) < 0) return -1;
  struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s create|pass ITERATIONS\n", argv[0]);
    return 2;
  }
  long n = strtol(argv[2], NULL, 10);
  if (n <= 0) return 2;
  uint64_t t0, t1;
  if (strcmp(argv[1], "create") == 0) {
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
      int fd = create_region();
      if (fd < 0 || fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE) < 0) return 1;
      close(fd);
    }
    t1 = now_ns();
  } else if (strcmp(argv[1], "pass") == 0) {
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) return 1;
    int fd = create_region();
    if (fd < 0) return 1;
    t0 = now_ns();
    for (long i = 0; i < n; i++) {
      if (send_fd(sv[0], fd) < 0) return 1;
      int got = recv_fd(sv[1]);
      if (got < 0) return 1;
      close(got);
    }
    t1 = now_ns();
  } else {
    return 2;
  }
  printf("%.1f\n", (double)(t1 - t0) / (double)n);
  return 0;
}
