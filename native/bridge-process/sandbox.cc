#include "sandbox.h"

#include <fcntl.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/sockios.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <vector>

namespace droidway {
namespace bridge_process {
namespace {

#if defined(__x86_64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_AARCH64;
#else
#error "the bridge's seccomp filter knows x86_64 and aarch64"
#endif

// The ioctls the bridge makes: sizing a legacy /dev/ashmem pool (see ashmem.cc), and the bytes
// a socket has queued to send (wire_fastpath.cc) or to read (host_connection.cc).
constexpr uint32_t kAshmemGetSize = _IO(0x77, 4);
constexpr uint32_t kSocketOutQueue = SIOCOUTQ;
constexpr uint32_t kSocketInQueue = SIOCINQ;

// What the bridge loop needs once set up: socket I/O with fds (recvmsg/sendmsg), the epoll loop,
// fd checks (fstat, fstatfs, F_GET_SEALS, readlink of /proc/self/fd, lseek on a dmabuf), memory
// for libwayland and the C++ runtime, futexes for the stats lock and thread join, and exit.
// Not here: socket, connect, open, execve, ptrace, fork/clone, kill, anything writing files.
// The loop's own calls first: the filter is a linear list, run on every syscall.
const int kAllowed[] = {
#ifdef SYS_epoll_wait
    SYS_epoll_wait,
#endif
    SYS_epoll_pwait,
    SYS_recvmsg,
    SYS_sendmsg,
    SYS_futex,
    SYS_close,
    SYS_read,
    SYS_write,
    SYS_readv,
    SYS_writev,
    SYS_fstat,
    SYS_newfstatat,
    SYS_fstatfs,
    SYS_statfs,
    SYS_lseek,
    SYS_mmap,
    SYS_munmap,
    SYS_mprotect,
    SYS_mremap,
    SYS_madvise,
    SYS_brk,
    SYS_clock_gettime,
    SYS_clock_nanosleep,
    SYS_nanosleep,
    SYS_gettimeofday,
    SYS_epoll_ctl,
    SYS_epoll_create1,
    SYS_ppoll,
    SYS_exit,
    SYS_exit_group,
    SYS_rt_sigreturn,
    SYS_rt_sigprocmask,
    SYS_recvfrom,
    SYS_sendto,
    SYS_accept4,
    SYS_accept,
    // The relayed socket of each guest connection (wire_fastpath.cc).
    SYS_socketpair,
    SYS_shutdown,
    SYS_getsockopt,
    SYS_fcntl,
    SYS_dup,
    SYS_dup3,
    SYS_readlinkat,
    SYS_getpid,
    SYS_gettid,
    SYS_tgkill,
    SYS_sched_yield,
    SYS_getrandom,
    SYS_restart_syscall,
    SYS_set_robust_list,
    SYS_rseq,
    SYS_statx,
    // Sealed copies the bridge makes (ShmCopy for unsealable pools, KeymapCopy for the keymap).
    SYS_memfd_create,
    SYS_pread64,
    SYS_pwrite64,
    SYS_ftruncate,
    // The bridge's own pipe of each clipboard transfer (DataDeviceRelay).
    SYS_pipe2,
    // The deadline of a guest's first request (wl_event_loop timers are timerfds).
    SYS_timerfd_create,
    SYS_timerfd_settime,
    SYS_timerfd_gettime,
#ifdef SYS_epoll_pwait2
    SYS_epoll_pwait2,
#endif
#ifdef SYS_poll
    SYS_poll,
#endif
#ifdef SYS_readlink
    SYS_readlink,
#endif
#ifdef SYS_stat
    SYS_stat,
#endif
};

// Refused with an errno instead of ending the process: removing its socket at teardown (the
// parent removes it), and the connect a stray code path might try (the connector does that).
// Opening files is refused too: the guest-pausing lookup in /proc/self/fdinfo then finds
// nothing and the bridge falls back to ending an overflowing guest (bridge_client.cc), so a
// taken-over bridge cannot read the files of the user it runs as.
const int kRefused[] = {
    SYS_unlinkat, SYS_socket, SYS_connect, SYS_openat,
#ifdef SYS_open
    SYS_open,
#endif
#ifdef SYS_unlink
    SYS_unlink,
#endif
};

// The connector child's whole life after setup: read a request, connect, send the fd, close.
const int kConnectorAllowed[] = {
    SYS_recvfrom, SYS_recvmsg, SYS_socket,     SYS_connect,      SYS_sendmsg,
    SYS_close,    SYS_exit,    SYS_exit_group, SYS_rt_sigreturn, SYS_restart_syscall,
};

sock_filter Stmt(uint16_t code, uint32_t k) {
  return BPF_STMT(code, k);
}

sock_filter Jump(uint16_t code, uint32_t k, uint8_t jt, uint8_t jf) {
  return BPF_JUMP(code, k, jt, jf);
}

/** An allow-list of `allowed`, plus the bridge's own extras when `bridge` (see kRefused). */
template <size_t N>
std::vector<sock_filter> BuildFilter(const int (&allowed)[N], bool bridge) {
  std::vector<sock_filter> f;
  f.push_back(Stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)));
  f.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 1, 0));
  f.push_back(Stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
  f.push_back(Stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
#ifdef __x86_64__
  // x32 syscalls share the arch value; refuse them outright.
  f.push_back(Jump(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1));
  f.push_back(Stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
#endif
  for (const int nr : allowed) {
    f.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(nr), 0, 1));
    f.push_back(Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  }
  if (!bridge) {
    f.push_back(Stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
    return f;
  }
  for (const int nr : kRefused) {
    f.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(nr), 0, 1));
    f.push_back(Stmt(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES));
  }
  // ioctl: only ASHMEM_GET_SIZE, SIOCOUTQ and SIOCINQ (the request number is the low 32 bits of
  // args[1]).
  f.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, SYS_ioctl, 0, 5));
  f.push_back(Stmt(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[1])));
  f.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, kAshmemGetSize, 2, 0));
  f.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, kSocketOutQueue, 1, 0));
  f.push_back(Jump(BPF_JMP | BPF_JEQ | BPF_K, kSocketInQueue, 0, 1));
  f.push_back(Stmt(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  f.push_back(Stmt(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS));
  return f;
}

/** Installs `filter` (no_new_privs must be set); `flags` as for seccomp(2). */
long InstallFilter(std::vector<sock_filter>* filter, unsigned flags) {
  sock_fprog program;
  program.len = static_cast<unsigned short>(filter->size());
  program.filter = filter->data();
  return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &program);
}

// The connector child's loop: one byte in, one connected socket (or an errno) out.
[[noreturn]] void ServeConnections(int channel, const std::string& host_socket_path) {
  sockaddr_un address;
  std::memset(&address, 0, sizeof address);
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, host_socket_path.data(), host_socket_path.size());
  while (true) {
    char request;
    const ssize_t n = ::recv(channel, &request, 1, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ::_exit(0);
    int32_t result = 0;
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    int rc = fd.valid() ? 0 : -1;
    if (rc == 0) {
      do {
        rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&address), sizeof address);
      } while (rc < 0 && errno == EINTR);
    }
    if (rc < 0) result = errno;
    iovec iov = {&result, sizeof result};
    msghdr message{};
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    if (result == 0) {
      message.msg_control = control;
      message.msg_controllen = sizeof control;
      cmsghdr* header = CMSG_FIRSTHDR(&message);
      header->cmsg_level = SOL_SOCKET;
      header->cmsg_type = SCM_RIGHTS;
      header->cmsg_len = CMSG_LEN(sizeof(int));
      const int raw = fd.get();
      std::memcpy(CMSG_DATA(header), &raw, sizeof raw);
    }
    if (::sendmsg(channel, &message, MSG_NOSIGNAL) < 0) ::_exit(0);
  }
}

}  // namespace

NativeStatus HostConnector::Start(const std::string& host_socket_path, HostConnector* out) {
  if (host_socket_path.empty() || host_socket_path.size() >= sizeof(sockaddr_un::sun_path)) {
    return NativeStatus::Error(-EINVAL, "connect", "host socket path too long");
  }
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
    return NativeStatus::FromErrno("socketpair", "host connector channel");
  }
  UniqueFd ours(pair[0]);
  UniqueFd theirs(pair[1]);
  const pid_t parent = ::getpid();
  const pid_t child = ::fork();
  if (child < 0) return NativeStatus::FromErrno("fork", "host connector");
  if (child == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(0);
    // Keep only the channel (as fd 3) and stderr.
    if (::dup2(theirs.get(), 3) < 0) ::_exit(1);
    ::syscall(SYS_close_range, 4u, ~0u, 0u);
    const int null_fd = ::open("/dev/null", O_RDWR);
    if (null_fd < 0 || ::dup2(null_fd, 0) < 0 || ::dup2(null_fd, 1) < 0) ::_exit(1);
    if (null_fd > 3) ::close(null_fd);
    std::vector<sock_filter> filter = BuildFilter(kConnectorAllowed, false);
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || InstallFilter(&filter, 0) != 0) ::_exit(1);
    ServeConnections(3, host_socket_path);
  }
  out->channel_ = std::move(ours);
  out->child_ = child;
  out->host_socket_path_ = host_socket_path;
  return {};
}

HostConnector::~HostConnector() {
  channel_.reset();  // the child reads EOF and ends
}

NativeStatus HostConnector::Connect(UniqueFd* out) {
  std::lock_guard<std::mutex> lock(mutex_);
  const char request = 'c';
  ssize_t n;
  do {
    n = ::send(channel_.get(), &request, 1, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  if (n != 1) return NativeStatus::FromErrno("send", "asking the host connector");
  int32_t result = 0;
  iovec iov = {&result, sizeof result};
  msghdr message{};
  message.msg_iov = &iov;
  message.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  do {
    n = ::recvmsg(channel_.get(), &message, MSG_CMSG_CLOEXEC);
  } while (n < 0 && errno == EINTR);
  if (n < 0) return NativeStatus::FromErrno("recvmsg", "the host connector's answer");
  UniqueFd fd;
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS &&
        header->cmsg_len == CMSG_LEN(sizeof(int))) {
      int raw;
      std::memcpy(&raw, CMSG_DATA(header), sizeof raw);
      fd.reset(raw);
    }
  }
  if (n != sizeof result) {
    return NativeStatus::Error(-EPIPE, "recvmsg", "the host connector has ended");
  }
  if (result != 0) {
    return NativeStatus::Error(-result, "connect",
                               "connect to host compositor " + host_socket_path_);
  }
  if (!fd.valid()) return NativeStatus::Error(-EPROTO, "recvmsg", "the host connector sent no fd");
  *out = std::move(fd);
  return {};
}

NativeStatus Confine(const Confinement& confinement) {
  if (::geteuid() == 0 || ::getuid() == 0) {
    if (confinement.uid <= 0 || confinement.gid <= 0) {
      return NativeStatus::Error(-EPERM, "setuid", "started as root without ids to become");
    }
    const auto uid = static_cast<uid_t>(confinement.uid);
    const auto gid = static_cast<gid_t>(confinement.gid);
    // glibc applies each of these to every thread of the process.
    if (::setgroups(0, nullptr) < 0) return NativeStatus::FromErrno("setgroups", "dropping groups");
    if (::setresgid(gid, gid, gid) < 0) return NativeStatus::FromErrno("setresgid", "gid");
    if (::setresuid(uid, uid, uid) < 0) return NativeStatus::FromErrno("setresuid", "uid");
    if (::setuid(0) == 0 || ::geteuid() == 0) {
      return NativeStatus::Error(-EPERM, "setuid", "root could be regained");
    }
  }
  if (confinement.address_space_bytes != 0) {
    rlimit limit;
    limit.rlim_cur = limit.rlim_max = confinement.address_space_bytes;
    if (::setrlimit(RLIMIT_AS, &limit) < 0) {
      return NativeStatus::FromErrno("setrlimit", "RLIMIT_AS");
    }
  }
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
    return NativeStatus::FromErrno("prctl", "PR_SET_NO_NEW_PRIVS");
  }
  std::vector<sock_filter> filter = BuildFilter(kAllowed, true);
  // TSYNC: the bridge thread already runs (blocked until this returns); it gets the same filter.
  const long rc = InstallFilter(&filter, SECCOMP_FILTER_FLAG_TSYNC);
  if (rc != 0) {
    if (rc > 0) return NativeStatus::Error(-EBUSY, "seccomp", "a thread could not be synced");
    return NativeStatus::FromErrno("seccomp", "installing the allow-list");
  }
  return {};
}

}  // namespace bridge_process
}  // namespace droidway
