/*
 * droidway-probe: the in-container isolation probe.
 *
 * `droidway policy verify` copies this static binary into a running container and runs it
 * through `lxc-attach`. It observes what a process inside the container can see and do, and
 * prints ONE JSON object (format "droidway-probe/1") on stdout with the raw value of every
 * observation. It judges nothing: the host side (electron/core/inspect/verify.ts) compares the
 * observations with what the policy promises.
 *
 * Usage (every list option may be repeated; values are never split on commas):
 *   droidway-probe [--host-pid N] [--host-tcp-port N] [--host-abstract NAME]
 *                  [--host-ipc-key K] [--syscall NAME]... [--masked PATH]...
 *                  [--readonly PATH]... [--memory-test LIMIT_BYTES] [--pids-test MAX]
 *                  [--scratch DIR] [--escapes] [--fill-dir DIR --fill-max BYTES]
 *                  [--console-flood BYTES]
 *
 * Besides looking, the probe tries to debug another process (the guest's init: /proc/1/mem,
 * process_vm_readv/writev, pidfd_getfd, kcmp) and, with --escapes, tries the known ways out of a
 * container: remounting its own read-only host bind read-write, fresh procfs/sysfs/tracefs
 * mounts to reach host knobs, a binfmt_misc rule (removed again at once),
 * a fanotify filesystem mark, and cgroup limit files opened for writing. Each attempt looks
 * only: knobs are opened, never written, and whatever an attempt creates is removed again.
 *
 * Output contract: every section is always present; a value that could not be measured is null
 * and the section's "errors" array says why. Exit status 0 after printing the object, 2 on a
 * usage error (message on stderr, nothing on stdout), 1 when the output could not be built.
 *
 * Everything risky runs in a forked child (syscall attempts, the memory and pids tests), so a
 * seccomp "kill" action, an OOM kill or a hang shows up as a signal in the report instead of
 * ending the probe. Output is assembled in memory and written once, so forked children (which
 * leave through _exit) can never duplicate or interleave it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/msg.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROBE_FORMAT "droidway-probe/1"
#define PROBE_MAX_LIST 256
#define PROBE_MAX_DEVICES 4096
#define PROBE_MAX_FDS 1024
#define PROBE_MAX_DEV_DEPTH 6
#define PROBE_SYSCALL_TIMEOUT_S 5
#define PROBE_MEMORY_TIMEOUT_S 120
#define PROBE_CONNECT_TIMEOUT_MS 2000
#define PROBE_READ_LIMIT 4096

/* ------------------------------------------------------------------------------------------ */
/* JSON writer: an in-memory buffer with a nesting stack for commas.                           */

struct probe_json {
  char* data;
  size_t len;
  size_t cap;
  int failed;
  int depth;
  int first[64];
};

static struct probe_json out;

static void probe_json_raw(const char* s, size_t n) {
  if (out.failed) return;
  if (out.len + n + 1 > out.cap) {
    size_t cap = out.cap ? out.cap : 65536;
    while (out.len + n + 1 > cap) cap *= 2;
    char* p = realloc(out.data, cap);
    if (!p) {
      out.failed = 1;
      return;
    }
    out.data = p;
    out.cap = cap;
  }
  memcpy(out.data + out.len, s, n);
  out.len += n;
  out.data[out.len] = '\0';
}

static void probe_json_rawz(const char* s) {
  probe_json_raw(s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not valid UTF-8. */
static size_t probe_utf8_len(const unsigned char* s) {
  unsigned c = s[0];
  size_t n;
  unsigned min;
  unsigned cp;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    min = 0x80;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    min = 0x800;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    min = 0x10000;
    cp = c & 0x07;
  } else {
    return 0;
  }
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

/* Strings from the guest (paths, link targets, names) may hold any bytes: control characters
 * are escaped and bytes that are not valid UTF-8 become U+FFFD, so the output is always JSON. */
static void probe_json_string(const char* s) {
  const unsigned char* p = (const unsigned char*)s;
  probe_json_raw("\"", 1);
  while (*p) {
    char esc[8];
    if (*p == '"' || *p == '\\') {
      esc[0] = '\\';
      esc[1] = (char)*p;
      probe_json_raw(esc, 2);
      p++;
    } else if (*p < 0x20 || *p == 0x7f) {
      snprintf(esc, sizeof esc, "\\u%04x", *p);
      probe_json_rawz(esc);
      p++;
    } else {
      size_t n = probe_utf8_len(p);
      if (n == 0) {
        probe_json_rawz("\\ufffd");
        p++;
      } else {
        probe_json_raw((const char*)p, n);
        p += n;
      }
    }
  }
  probe_json_raw("\"", 1);
}

static void probe_json_key(const char* key) {
  if (out.depth > 0) {
    if (!out.first[out.depth]) probe_json_raw(",", 1);
    out.first[out.depth] = 0;
  }
  if (key) {
    probe_json_string(key);
    probe_json_raw(":", 1);
  }
}

static void probe_json_open(const char* key, const char* bracket) {
  probe_json_key(key);
  probe_json_rawz(bracket);
  if (out.depth + 1 < (int)(sizeof out.first / sizeof out.first[0])) out.depth++;
  out.first[out.depth] = 1;
}

static void probe_json_close(const char* bracket) {
  probe_json_rawz(bracket);
  if (out.depth > 0) out.depth--;
}

static void probe_obj(const char* key) {
  probe_json_open(key, "{");
}
static void probe_obj_end(void) {
  probe_json_close("}");
}
static void probe_arr(const char* key) {
  probe_json_open(key, "[");
}
static void probe_arr_end(void) {
  probe_json_close("]");
}

static void probe_str(const char* key, const char* value) {
  probe_json_key(key);
  if (value)
    probe_json_string(value);
  else
    probe_json_rawz("null");
}

static void probe_int(const char* key, long long value) {
  char buf[32];
  probe_json_key(key);
  snprintf(buf, sizeof buf, "%lld", value);
  probe_json_rawz(buf);
}

static void probe_bool(const char* key, int value) {
  probe_json_key(key);
  probe_json_rawz(value ? "true" : "false");
}

static void probe_null(const char* key) {
  probe_json_key(key);
  probe_json_rawz("null");
}

/* ------------------------------------------------------------------------------------------ */
/* Small helpers.                                                                              */

/* Errors collected for the current section, emitted as its "errors" array. */
static char probe_errors[16][256];
static int probe_error_count;

static void probe_error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
static void probe_error(const char* fmt, ...) {
  if (probe_error_count >= 16) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(probe_errors[probe_error_count++], sizeof probe_errors[0], fmt, ap);
  va_end(ap);
}

static void probe_section_begin(const char* key) {
  probe_obj(key);
  probe_error_count = 0;
}

static void probe_section_end(void) {
  probe_arr("errors");
  for (int i = 0; i < probe_error_count; i++) probe_str(NULL, probe_errors[i]);
  probe_arr_end();
  probe_error_count = 0;
  probe_obj_end();
}

/* Name of an errno value ("EPERM"); a number is rendered for values glibc has no name for. */
static const char* probe_errno_name(int e) {
  static char buf[32];
  const char* name = strerrorname_np(e);
  if (name) return name;
  snprintf(buf, sizeof buf, "E%d", e);
  return buf;
}

static const char* probe_signal_name(int sig) {
  static char buf[32];
  const char* abbrev = sigabbrev_np(sig);
  if (abbrev)
    snprintf(buf, sizeof buf, "SIG%s", abbrev);
  else
    snprintf(buf, sizeof buf, "SIG%d", sig);
  return buf;
}

/* Reads at most cap-1 bytes of a small (proc/sys) file into buf; returns bytes or -errno. */
static ssize_t probe_read_file(const char* path, char* buf, size_t cap) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return -errno;
  size_t total = 0;
  while (total + 1 < cap) {
    ssize_t n = read(fd, buf + total, cap - 1 - total);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      return -e;
    }
    if (n == 0) break;
    total += (size_t)n;
  }
  buf[total] = '\0';
  close(fd);
  return (ssize_t)total;
}

/* Value of a "Key:\tvalue" line of a /proc/<pid>/status text, trimmed; NULL when absent. */
static const char* probe_status_field(const char* status, const char* key, char* buf, size_t cap) {
  size_t klen = strlen(key);
  const char* line = status;
  while (line && *line) {
    if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
      const char* v = line + klen + 1;
      while (*v == ' ' || *v == '\t') v++;
      size_t n = strcspn(v, "\n");
      if (n >= cap) n = cap - 1;
      memcpy(buf, v, n);
      buf[n] = '\0';
      return buf;
    }
    line = strchr(line, '\n');
    if (line) line++;
  }
  return NULL;
}

static int probe_parse_ll(const char* s, long long min, long long max, long long* value) {
  char* end;
  errno = 0;
  long long v = strtoll(s, &end, 0);
  if (errno || end == s || *end != '\0' || v < min || v > max) return -1;
  *value = v;
  return 0;
}

static const char* probe_file_type(mode_t mode) {
  if (S_ISREG(mode)) return "file";
  if (S_ISDIR(mode)) return "dir";
  if (S_ISCHR(mode)) return "chr";
  if (S_ISBLK(mode)) return "blk";
  if (S_ISFIFO(mode)) return "fifo";
  if (S_ISSOCK(mode)) return "sock";
  if (S_ISLNK(mode)) return "link";
  return "other";
}

/* Runs fn in a forked child and reports how it ended. The child sends back the syscall's raw
 * return value and errno through a pipe; a signal (seccomp kill → SIGSYS, OOM → SIGKILL,
 * the alarm → SIGALRM) is reported instead when the child did not get that far. */
struct probe_child_result {
  int started;    /* fork succeeded */
  int fork_errno; /* when it did not */
  int reported;   /* the child wrote its result */
  long ret;       /* raw return value of the attempt */
  int err;        /* errno after the attempt (0 when ret >= 0) */
  int signaled;   /* the child ended by a signal */
  int sig;
};

static struct probe_child_result probe_in_child(long (*fn)(void*), void* arg, unsigned timeout_s) {
  struct probe_child_result r = {0};
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) < 0) {
    r.fork_errno = errno;
    return r;
  }
  pid_t pid = fork();
  if (pid < 0) {
    r.fork_errno = errno;
    close(fds[0]);
    close(fds[1]);
    return r;
  }
  if (pid == 0) {
    close(fds[0]);
    alarm(timeout_s);
    errno = 0;
    long ret = fn(arg);
    long msg[2] = {ret, ret < 0 ? errno : 0};
    if (write(fds[1], msg, sizeof msg) != (ssize_t)sizeof msg) _exit(126);
    _exit(0);
  }
  close(fds[1]);
  r.started = 1;
  long msg[2];
  ssize_t n;
  do {
    n = read(fds[0], msg, sizeof msg);
  } while (n < 0 && errno == EINTR);
  close(fds[0]);
  if (n == (ssize_t)sizeof msg) {
    r.reported = 1;
    r.ret = msg[0];
    r.err = (int)msg[1];
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    r.signaled = 1;
    r.sig = WTERMSIG(status);
  }
  return r;
}

/* ------------------------------------------------------------------------------------------ */
/* Options.                                                                                    */

struct probe_options {
  long long host_pid;
  long long host_tcp_port;
  const char* host_abstract;
  int has_ipc_key;
  long long host_ipc_key;
  const char* syscalls[PROBE_MAX_LIST];
  int n_syscalls;
  const char* masked[PROBE_MAX_LIST];
  int n_masked;
  const char* readonly[PROBE_MAX_LIST];
  int n_readonly;
  long long memory_limit;
  long long pids_max;
  const char* scratch;
  int escapes;
  const char* fill_dir;
  long long fill_max;
  long long console_bytes;
};

/* ------------------------------------------------------------------------------------------ */
/* PID namespace.                                                                              */

static void probe_pid(const struct probe_options* o) {
  char buf[512];
  probe_section_begin("pid");
  probe_int("self", (long long)syscall(SYS_getpid));
  probe_int("parent", (long long)syscall(SYS_getppid));
  ssize_t n = probe_read_file("/proc/1/comm", buf, sizeof buf);
  if (n < 0) {
    probe_null("init_comm");
    probe_error("/proc/1/comm: %s", probe_errno_name((int)-n));
  } else {
    buf[strcspn(buf, "\n")] = '\0';
    probe_str("init_comm", buf);
  }
  probe_section_end();

  /* A host pid the verifier names: its /proc entry must not exist. The verifier also gets the
   * comm and start time so it can tell the host process from a container process that merely
   * has the same number in the container's own pid namespace. */
  probe_section_begin("host_pid");
  if (o->host_pid <= 0) {
    probe_null("pid");
    probe_null("visible");
    probe_null("comm");
    probe_null("start_time");
  } else {
    char path[64];
    struct stat st;
    probe_int("pid", o->host_pid);
    snprintf(path, sizeof path, "/proc/%lld", o->host_pid);
    if (stat(path, &st) < 0) {
      if (errno == ENOENT) {
        probe_bool("visible", 0);
      } else {
        probe_null("visible");
        probe_error("%s: %s", path, probe_errno_name(errno));
      }
      probe_null("comm");
      probe_null("start_time");
    } else {
      probe_bool("visible", 1);
      snprintf(path, sizeof path, "/proc/%lld/comm", o->host_pid);
      n = probe_read_file(path, buf, sizeof buf);
      if (n < 0) {
        probe_null("comm");
        probe_error("%s: %s", path, probe_errno_name((int)-n));
      } else {
        buf[strcspn(buf, "\n")] = '\0';
        probe_str("comm", buf);
      }
      snprintf(path, sizeof path, "/proc/%lld/stat", o->host_pid);
      n = probe_read_file(path, buf, sizeof buf);
      /* starttime is field 22; the comm (field 2) may contain spaces and parentheses, so
       * fields are counted from the last ')'. */
      char* close_paren = n > 0 ? strrchr(buf, ')') : NULL;
      const char* start = NULL;
      if (close_paren) {
        char* save = NULL;
        int field = 2;
        for (char* tok = strtok_r(close_paren + 1, " ", &save); tok;
             tok = strtok_r(NULL, " ", &save)) {
          if (++field == 22) {
            start = tok;
            break;
          }
        }
      }
      if (start) {
        probe_str("start_time", start);
      } else {
        probe_null("start_time");
        probe_error("%s: %s", path, n < 0 ? probe_errno_name((int)-n) : "unparsable");
      }
    }
  }
  probe_section_end();
}

/* ------------------------------------------------------------------------------------------ */
/* Namespaces.                                                                                 */

static const char* const probe_ns_names[] = {"pid", "mnt",    "net",  "ipc",
                                             "uts", "cgroup", "user", "time"};

static void probe_ns_of(const char* key, const char* proc) {
  probe_obj(key);
  for (size_t i = 0; i < sizeof probe_ns_names / sizeof probe_ns_names[0]; i++) {
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "%s/ns/%s", proc, probe_ns_names[i]);
    if (stat(path, &st) < 0) {
      probe_null(probe_ns_names[i]);
      probe_error("%s: %s", path, probe_errno_name(errno));
    } else {
      probe_int(probe_ns_names[i], (long long)st.st_ino);
    }
  }
  probe_obj_end();
}

static void probe_namespaces(void) {
  probe_section_begin("namespaces");
  probe_ns_of("self", "/proc/self");
  probe_ns_of("init", "/proc/1");
  probe_section_end();
}

/* ------------------------------------------------------------------------------------------ */
/* Capabilities.                                                                               */

static const char* const probe_cap_names[] = {
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
};

static void probe_cap_name(int cap) {
  if (cap >= 0 && (size_t)cap < sizeof probe_cap_names / sizeof probe_cap_names[0]) {
    probe_str(NULL, probe_cap_names[cap]);
  } else {
    char buf[32];
    snprintf(buf, sizeof buf, "cap_%d", cap);
    probe_str(NULL, buf);
  }
}

static void probe_cap_mask(const char* key, uint64_t mask, int last_cap) {
  probe_arr(key);
  for (int c = 0; c <= last_cap && c < 64; c++)
    if (mask & ((uint64_t)1 << c)) probe_cap_name(c);
  probe_arr_end();
}

/* A CapXxx hex mask from a status text, or -1 when missing or malformed. */
static int probe_status_mask(const char* status, const char* key, uint64_t* mask) {
  char buf[64];
  if (!probe_status_field(status, key, buf, sizeof buf)) return -1;
  char* end;
  errno = 0;
  unsigned long long v = strtoull(buf, &end, 16);
  if (errno || end == buf || *end != '\0') return -1;
  *mask = v;
  return 0;
}

static void probe_capabilities(void) {
  probe_section_begin("capabilities");

  /* PR_CAPBSET_READ answers EINVAL past the kernel's last capability, which gives the last
   * capability without trusting /proc/sys/kernel/cap_last_cap. */
  uint64_t bounding = 0;
  int last_cap = -1;
  int bset_error = 0;
  for (int c = 0; c < 64; c++) {
    int r = prctl(PR_CAPBSET_READ, c, 0, 0, 0);
    if (r < 0) {
      if (errno != EINVAL) bset_error = errno;
      break;
    }
    last_cap = c;
    if (r == 1) bounding |= (uint64_t)1 << c;
  }
  if (last_cap < 0) {
    probe_null("last_cap");
    probe_null("bounding");
    probe_error("PR_CAPBSET_READ: %s", probe_errno_name(bset_error ? bset_error : EINVAL));
    last_cap = 63;
  } else {
    probe_int("last_cap", last_cap);
    probe_cap_mask("bounding", bounding, last_cap);
  }

  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
  memset(data, 0, sizeof data);
  if (syscall(SYS_capget, &hdr, data) < 0) {
    probe_error("capget: %s", probe_errno_name(errno));
    probe_null("effective");
    probe_null("permitted");
    probe_null("inheritable");
  } else {
    probe_cap_mask("effective", data[0].effective | ((uint64_t)data[1].effective << 32), last_cap);
    probe_cap_mask("permitted", data[0].permitted | ((uint64_t)data[1].permitted << 32), last_cap);
    probe_cap_mask("inheritable", data[0].inheritable | ((uint64_t)data[1].inheritable << 32),
                   last_cap);
  }

  uint64_t ambient = 0;
  int amb_error = 0;
  for (int c = 0; c <= last_cap && c < 64; c++) {
    int r = prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, c, 0, 0);
    if (r < 0) {
      amb_error = errno;
      break;
    }
    if (r == 1) ambient |= (uint64_t)1 << c;
  }
  if (amb_error) {
    probe_null("ambient");
    probe_error("PR_CAP_AMBIENT_IS_SET: %s", probe_errno_name(amb_error));
  } else {
    probe_cap_mask("ambient", ambient, last_cap);
  }

  /* The container's init: only /proc tells its sets. */
  char status[8192];
  ssize_t n = probe_read_file("/proc/1/status", status, sizeof status);
  probe_obj("init");
  static const char* const keys[][2] = {{"bounding", "CapBnd"},
                                        {"effective", "CapEff"},
                                        {"permitted", "CapPrm"},
                                        {"inheritable", "CapInh"},
                                        {"ambient", "CapAmb"}};
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    uint64_t mask;
    if (n < 0) {
      probe_null(keys[i][0]);
    } else if (probe_status_mask(status, keys[i][1], &mask) < 0) {
      probe_null(keys[i][0]);
      probe_error("/proc/1/status: no valid %s", keys[i][1]);
    } else {
      probe_cap_mask(keys[i][0], mask, last_cap);
    }
  }
  probe_obj_end();
  if (n < 0) probe_error("/proc/1/status: %s", probe_errno_name((int)-n));
  probe_section_end();
}

/* ------------------------------------------------------------------------------------------ */
/* NoNewPrivs and seccomp.                                                                     */

static void probe_status_int(const char* key, const char* status, ssize_t n, const char* field,
                             const char* path) {
  char buf[64];
  long long v;
  if (n < 0) {
    probe_null(key);
    return;
  }
  if (!probe_status_field(status, field, buf, sizeof buf) || probe_parse_ll(buf, 0, 1000, &v) < 0) {
    probe_null(key);
    probe_error("%s: no valid %s", path, field);
    return;
  }
  probe_int(key, v);
}

static void probe_status(void) {
  char status[8192];
  probe_section_begin("status");
  ssize_t n = probe_read_file("/proc/self/status", status, sizeof status);
  if (n < 0) probe_error("/proc/self/status: %s", probe_errno_name((int)-n));
  probe_status_int("no_new_privs", status, n, "NoNewPrivs", "/proc/self/status");
  probe_status_int("seccomp", status, n, "Seccomp", "/proc/self/status");
  /* The prctl answers are a cross-check that does not depend on /proc being genuine. */
  int r = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
  if (r < 0) {
    probe_null("prctl_no_new_privs");
    probe_error("PR_GET_NO_NEW_PRIVS: %s", probe_errno_name(errno));
  } else {
    probe_int("prctl_no_new_privs", r);
  }
  n = probe_read_file("/proc/1/status", status, sizeof status);
  if (n < 0) probe_error("/proc/1/status: %s", probe_errno_name((int)-n));
  probe_status_int("init_no_new_privs", status, n, "NoNewPrivs", "/proc/1/status");
  probe_status_int("init_seccomp", status, n, "Seccomp", "/proc/1/status");
  probe_section_end();
}

/* ------------------------------------------------------------------------------------------ */
/* Syscall attempts.                                                                           */
/*
 * Each attempt uses arguments chosen so that, if the syscall is ALLOWED (by seccomp and by
 * capabilities), it fails harmlessly with an errno other than EPERM (mostly EINVAL, EFAULT,
 * EBADF, ESRCH) or has an effect confined to the forked child that makes it. A denial by the
 * policy therefore reads as the policy's errno (or a signal for a "kill" action), and an
 * allowed call reads differently. Where the kernel checks a capability before the arguments,
 * a missing capability also yields EPERM; that is noted per call.
 */

/* Pointer to an address that is never mapped (below mmap_min_addr): the kernel's copy from
 * user space fails with EFAULT before anything is done. */
#define PROBE_BAD_PTR ((void*)1)

/* Filesystem type name no kernel registers: an allowed mount fails with ENODEV. Target "/"
 * exists, so path lookup succeeds and the type lookup is what fails. EPERM without
 * CAP_SYS_ADMIN. */
static long probe_sys_mount(void* a) {
  (void)a;
  return syscall(SYS_mount, "droidway-probe", "/", "droidway-probe-nofs", 0UL, NULL);
}
/* Unknown flag bits are rejected with EINVAL before anything is looked up. */
static long probe_sys_umount2(void* a) {
  (void)a;
  return syscall(SYS_umount2, "/", 0x40000000);
}
/* NULL paths: EFAULT after the CAP_SYS_ADMIN check. */
static long probe_sys_pivot_root(void* a) {
  (void)a;
  return syscall(SYS_pivot_root, NULL, NULL);
}
/* NULL path: EFAULT after the CAP_SYS_ADMIN check; nothing is swapped on or off. */
static long probe_sys_swapon(void* a) {
  (void)a;
  return syscall(SYS_swapon, NULL, 0);
}
static long probe_sys_swapoff(void* a) {
  (void)a;
  return syscall(SYS_swapoff, NULL);
}
/* Invalid magic numbers: EINVAL after the CAP_SYS_BOOT check, before the command is read, so
 * no reboot can happen even in a pid namespace where reboot would stop the container. */
static long probe_sys_reboot(void* a) {
  (void)a;
  return syscall(SYS_reboot, 0, 0, 0, NULL);
}
/* More segments than KEXEC_SEGMENT_MAX (16): EINVAL after the permission check. */
static long probe_sys_kexec_load(void* a) {
  (void)a;
  return syscall(SYS_kexec_load, 0UL, 17UL, NULL, 0UL);
}
#ifdef SYS_kexec_file_load
/* Unknown flag bits: EINVAL after the permission check; the fds are never read. */
static long probe_sys_kexec_file_load(void* a) {
  (void)a;
  return syscall(SYS_kexec_file_load, -1, -1, 0UL, NULL, 0xfffffff0UL);
}
#endif
/* A zero-length image: ENOEXEC (or EFAULT) after the CAP_SYS_MODULE check. */
static long probe_sys_init_module(void* a) {
  (void)a;
  return syscall(SYS_init_module, NULL, 0UL, "");
}
/* fd -1: EBADF after the CAP_SYS_MODULE check. */
static long probe_sys_finit_module(void* a) {
  (void)a;
  return syscall(SYS_finit_module, -1, "", 0);
}
/* NULL name: EFAULT after the CAP_SYS_MODULE check. */
static long probe_sys_delete_module(void* a) {
  (void)a;
  return syscall(SYS_delete_module, NULL, 0);
}
/* An operation number no kernel defines: EOPNOTSUPP, no keyring is touched. */
static long probe_sys_keyctl(void* a) {
  (void)a;
  return syscall(SYS_keyctl, 0x7fffffff, 0UL, 0UL, 0UL, 0UL);
}
/* NULL key type: EFAULT while copying the type, before any keyring lookup or creation. */
static long probe_sys_add_key(void* a) {
  (void)a;
  return syscall(SYS_add_key, NULL, NULL, NULL, 0UL, 0);
}
static long probe_sys_request_key(void* a) {
  (void)a;
  return syscall(SYS_request_key, NULL, NULL, NULL, 0);
}
/* An unknown command with an empty attribute: EINVAL (EPERM on kernels that gate all of bpf
 * on CAP_BPF/CAP_SYS_ADMIN while unprivileged bpf is disabled). */
static long probe_sys_bpf(void* a) {
  (void)a;
  return syscall(SYS_bpf, 0x7fffffff, NULL, 0U);
}
/* Unknown flag bits are rejected with EINVAL before the attribute or paranoia level is read. */
static long probe_sys_perf_event_open(void* a) {
  (void)a;
  return syscall(SYS_perf_event_open, NULL, 0, -1, -1, ~0UL);
}
/* UFFD_USER_MODE_ONLY (1) passes the unprivileged_userfaultfd gate; the unknown high bit then
 * gives EINVAL. No descriptor is created. */
static long probe_sys_userfaultfd(void* a) {
  (void)a;
  return syscall(SYS_userfaultfd, 0x40000001);
}
/* NULL params: EFAULT while copying them (EPERM when kernel.io_uring_disabled forbids it). */
static long probe_sys_io_uring_setup(void* a) {
  (void)a;
  return syscall(SYS_io_uring_setup, 1U, NULL);
}
/* fd -1 and NULL handle: EBADF/EFAULT (EPERM without CAP_DAC_READ_SEARCH). */
static long probe_sys_open_by_handle_at(void* a) {
  (void)a;
  return syscall(SYS_open_by_handle_at, -1, NULL, 0);
}
/* Unknown flag bits: EINVAL before the path is looked up. */
static long probe_sys_name_to_handle_at(void* a) {
  (void)a;
  return syscall(SYS_name_to_handle_at, AT_FDCWD, NULL, NULL, NULL, 0x40000000);
}
/* A new user namespace for this short-lived child only: success (0) has no lasting effect. */
static long probe_sys_unshare(void* a) {
  (void)a;
  return syscall(SYS_unshare, CLONE_NEWUSER);
}
/* pid 0 never names a tracee: ESRCH. */
static long probe_sys_ptrace(void* a) {
  (void)a;
  return syscall(SYS_ptrace, PTRACE_PEEKUSER, 0, NULL, NULL);
}
/* fd -1: EBADF. */
static long probe_sys_setns(void* a) {
  (void)a;
  return syscall(SYS_setns, -1, 0);
}
/* An unmapped path pointer: EFAULT. NULL would switch process accounting off, so never NULL. */
static long probe_sys_acct(void* a) {
  (void)a;
  return syscall(SYS_acct, PROBE_BAD_PTR);
}
/* Unmapped time pointers: the copy fails with EFAULT before CAP_SYS_TIME is checked, so an
 * allowed call can never set the clock. */
static long probe_sys_settimeofday(void* a) {
  (void)a;
  return syscall(SYS_settimeofday, PROBE_BAD_PTR, NULL);
}
static long probe_sys_clock_settime(void* a) {
  (void)a;
  return syscall(SYS_clock_settime, 0 /* CLOCK_REALTIME */, PROBE_BAD_PTR);
}
static long probe_sys_clock_adjtime(void* a) {
  (void)a;
  return syscall(SYS_clock_adjtime, 0 /* CLOCK_REALTIME */, PROBE_BAD_PTR);
}
static long probe_sys_adjtimex(void* a) {
  (void)a;
  return syscall(SYS_adjtimex, PROBE_BAD_PTR);
}
/* An unknown action: EINVAL after the CAP_SYSLOG check; the log is never read or cleared. */
static long probe_sys_syslog(void* a) {
  (void)a;
  return syscall(SYS_syslog, 9999, NULL, 0);
}
/* Negative length: EINVAL after the CAP_SYS_ADMIN check; the names never change. */
static long probe_sys_sethostname(void* a) {
  (void)a;
  return syscall(SYS_sethostname, NULL, -1);
}
static long probe_sys_setdomainname(void* a) {
  (void)a;
  return syscall(SYS_setdomainname, NULL, -1);
}
#ifdef SYS_iopl
/* Level 4 does not exist: EINVAL before the CAP_SYS_RAWIO check. */
static long probe_sys_iopl(void* a) {
  (void)a;
  return syscall(SYS_iopl, 4);
}
#endif
#ifdef SYS_ioperm
/* A range past the I/O bitmap: EINVAL before any permission is granted. */
static long probe_sys_ioperm(void* a) {
  (void)a;
  return syscall(SYS_ioperm, ~0UL, 1UL, 0);
}
#endif
/* NULL path: EFAULT during path lookup. */
static long probe_sys_chroot(void* a) {
  (void)a;
  return syscall(SYS_chroot, NULL);
}
#ifdef SYS_fsopen
/* NULL filesystem name: EFAULT after the CAP_SYS_ADMIN check. */
static long probe_sys_fsopen(void* a) {
  (void)a;
  return syscall(SYS_fsopen, NULL, 0U);
}
/* Unknown flag bits: EINVAL (after may_mount for fsmount/move_mount). */
static long probe_sys_fsmount(void* a) {
  (void)a;
  return syscall(SYS_fsmount, -1, 0x40000000U, 0U);
}
static long probe_sys_open_tree(void* a) {
  (void)a;
  return syscall(SYS_open_tree, -1, NULL, 0x40000000U);
}
static long probe_sys_move_mount(void* a) {
  (void)a;
  return syscall(SYS_move_mount, -1, NULL, -1, NULL, 0x40000000U);
}
#endif
/* Unknown flag bits: EINVAL (EPERM without CAP_SYS_ADMIN on older kernels). */
static long probe_sys_fanotify_init(void* a) {
  (void)a;
  return syscall(SYS_fanotify_init, 0x40000000U, 0U);
}
/* Quota type 0xff is past MAXQUOTAS: EINVAL before any device is looked up. */
static long probe_sys_quotactl(void* a) {
  (void)a;
  return syscall(SYS_quotactl, 0xffffffff, NULL, 0, NULL);
}
/* Unknown policy mode 99: EINVAL; no memory policy changes. */
static long probe_sys_mbind(void* a) {
  (void)a;
  return syscall(SYS_mbind, NULL, 0UL, 99, NULL, 0UL, 0U);
}
static long probe_sys_set_mempolicy(void* a) {
  (void)a;
  return syscall(SYS_set_mempolicy, 99, NULL, 0UL);
}
/* Unknown flag bits: EINVAL before any page is looked at. */
static long probe_sys_move_pages(void* a) {
  (void)a;
  return syscall(SYS_move_pages, 0, 0UL, NULL, NULL, NULL, 0x40000000);
}
/* Non-zero flags are rejected with EINVAL before the target is looked up. */
static long probe_sys_process_vm_readv(void* a) {
  (void)a;
  return syscall(SYS_process_vm_readv, 0, NULL, 0UL, NULL, 0UL, 1UL);
}
static long probe_sys_process_vm_writev(void* a) {
  (void)a;
  return syscall(SYS_process_vm_writev, 0, NULL, 0UL, NULL, 0UL, 1UL);
}
/* pid 0 names no task: ESRCH. */
static long probe_sys_kcmp(void* a) {
  (void)a;
  return syscall(SYS_kcmp, 0, 0, 0, 0UL, 0UL);
}

#ifdef SYS_pidfd_getfd
/* pidfd -1: EBADF before any process is looked up. */
static long probe_sys_pidfd_getfd(void* a) {
  (void)a;
  return syscall(SYS_pidfd_getfd, -1, 0, 0U);
}
#endif

/* fd -1: EBADF; no ring exists. */
static long probe_sys_io_uring_enter(void* a) {
  (void)a;
  return syscall(SYS_io_uring_enter, -1, 0U, 0U, 0U, NULL, 0UL);
}
static long probe_sys_io_uring_register(void* a) {
  (void)a;
  return syscall(SYS_io_uring_register, -1, 0U, NULL, 0U);
}
#ifdef SYS_lookup_dcookie
/* NULL buffer: EFAULT or EINVAL after the CAP_SYS_ADMIN check; ENOSYS on kernels (6.10+)
 * that removed it, where only seccomp can still answer for the number. */
static long probe_sys_lookup_dcookie(void* a) {
  (void)a;
  return syscall(SYS_lookup_dcookie, 0ULL, NULL, 0UL);
}
#endif
#ifdef SYS_clone3
/* A size below CLONE_ARGS_SIZE_VER0: EINVAL before anything is copied; no process is made. */
static long probe_sys_clone3(void* a) {
  (void)a;
  return syscall(SYS_clone3, NULL, 0UL);
}
#endif
#ifdef SYS_fsconfig
/* fd -1 with an unknown command: EINVAL/EBADF; no filesystem context exists. */
static long probe_sys_fsconfig(void* a) {
  (void)a;
  return syscall(SYS_fsconfig, -1, 0x7fffffffU, NULL, NULL, 0);
}
/* Unknown flag bits: EINVAL (after may_mount). */
static long probe_sys_fspick(void* a) {
  (void)a;
  return syscall(SYS_fspick, -1, NULL, 0x40000000U);
}
#endif
#ifdef SYS_mount_setattr
/* Unknown flag bits: EINVAL before any mount is looked up. */
static long probe_sys_mount_setattr(void* a) {
  (void)a;
  return syscall(SYS_mount_setattr, -1, NULL, 0x40000000U, NULL, 0UL);
}
#endif
/* 0xffffffff only queries the current persona (personality(2)); nothing changes. */
static long probe_sys_personality(void* a) {
  (void)a;
  return syscall(SYS_personality, 0xffffffffUL);
}
/* The raw clone(2) with CLONE_NEWUSER, as a seccomp argument filter sees it (flags in the first
 * argument). The new process exits at once and is reaped; its user namespace dies with it. */
static long probe_sys_clone_newuser(void* a) {
  (void)a;
  long pid = syscall(SYS_clone, (unsigned long)(CLONE_NEWUSER | SIGCHLD), NULL, NULL, NULL, 0UL);
  if (pid == 0) _exit(0);
  if (pid > 0) {
    int st;
    while (waitpid((pid_t)pid, &st, 0) < 0 && errno == EINTR) {
    }
  }
  return pid;
}

struct probe_syscall {
  const char* name;
  long (*fn)(void*);
};

static const struct probe_syscall probe_syscalls[] = {
    {"mount", probe_sys_mount},
    {"umount2", probe_sys_umount2},
    {"pivot_root", probe_sys_pivot_root},
    {"swapon", probe_sys_swapon},
    {"swapoff", probe_sys_swapoff},
    {"reboot", probe_sys_reboot},
    {"kexec_load", probe_sys_kexec_load},
#ifdef SYS_kexec_file_load
    {"kexec_file_load", probe_sys_kexec_file_load},
#endif
    {"init_module", probe_sys_init_module},
    {"finit_module", probe_sys_finit_module},
    {"delete_module", probe_sys_delete_module},
    {"keyctl", probe_sys_keyctl},
    {"add_key", probe_sys_add_key},
    {"request_key", probe_sys_request_key},
    {"bpf", probe_sys_bpf},
    {"perf_event_open", probe_sys_perf_event_open},
    {"userfaultfd", probe_sys_userfaultfd},
    {"io_uring_setup", probe_sys_io_uring_setup},
    {"open_by_handle_at", probe_sys_open_by_handle_at},
    {"name_to_handle_at", probe_sys_name_to_handle_at},
    {"unshare", probe_sys_unshare},
    {"unshare(CLONE_NEWUSER)", probe_sys_unshare},
    {"clone(CLONE_NEWUSER)", probe_sys_clone_newuser},
#ifdef SYS_clone3
    {"clone3", probe_sys_clone3},
#endif
    {"io_uring_enter", probe_sys_io_uring_enter},
    {"io_uring_register", probe_sys_io_uring_register},
#ifdef SYS_lookup_dcookie
    {"lookup_dcookie", probe_sys_lookup_dcookie},
#endif
#ifdef SYS_fsconfig
    {"fsconfig", probe_sys_fsconfig},
    {"fspick", probe_sys_fspick},
#endif
#ifdef SYS_mount_setattr
    {"mount_setattr", probe_sys_mount_setattr},
#endif
    {"personality", probe_sys_personality},
    {"ptrace", probe_sys_ptrace},
    {"setns", probe_sys_setns},
    {"acct", probe_sys_acct},
    {"settimeofday", probe_sys_settimeofday},
    {"clock_settime", probe_sys_clock_settime},
    {"clock_adjtime", probe_sys_clock_adjtime},
    {"adjtimex", probe_sys_adjtimex},
    {"syslog", probe_sys_syslog},
    {"sethostname", probe_sys_sethostname},
    {"setdomainname", probe_sys_setdomainname},
#ifdef SYS_iopl
    {"iopl", probe_sys_iopl},
#endif
#ifdef SYS_ioperm
    {"ioperm", probe_sys_ioperm},
#endif
    {"chroot", probe_sys_chroot},
#ifdef SYS_fsopen
    {"fsopen", probe_sys_fsopen},
    {"fsmount", probe_sys_fsmount},
    {"open_tree", probe_sys_open_tree},
    {"move_mount", probe_sys_move_mount},
#endif
    {"fanotify_init", probe_sys_fanotify_init},
    {"quotactl", probe_sys_quotactl},
    {"mbind", probe_sys_mbind},
    {"set_mempolicy", probe_sys_set_mempolicy},
    {"move_pages", probe_sys_move_pages},
    {"process_vm_readv", probe_sys_process_vm_readv},
    {"process_vm_writev", probe_sys_process_vm_writev},
    {"kcmp", probe_sys_kcmp},
#ifdef SYS_pidfd_getfd
    {"pidfd_getfd", probe_sys_pidfd_getfd},
#endif
};

static void probe_syscall_attempts(const struct probe_options* o) {
  probe_arr("syscalls");
  for (int i = 0; i < o->n_syscalls; i++) {
    const struct probe_syscall* sc = NULL;
    for (size_t k = 0; k < sizeof probe_syscalls / sizeof probe_syscalls[0]; k++)
      if (strcmp(probe_syscalls[k].name, o->syscalls[i]) == 0) sc = &probe_syscalls[k];
    probe_obj(NULL);
    probe_str("name", o->syscalls[i]);
    if (!sc) {
      probe_null("ret");
      probe_null("errno");
      probe_null("signal");
      probe_str("error", "not known to this probe (or not on this architecture)");
      probe_obj_end();
      continue;
    }
    struct probe_child_result r = probe_in_child(sc->fn, NULL, PROBE_SYSCALL_TIMEOUT_S);
    if (!r.started) {
      probe_null("ret");
      probe_null("errno");
      probe_null("signal");
      char msg[64];
      snprintf(msg, sizeof msg, "fork: %s", probe_errno_name(r.fork_errno));
      probe_str("error", msg);
    } else if (r.reported) {
      probe_int("ret", r.ret);
      probe_str("errno", r.ret < 0 ? probe_errno_name(r.err) : NULL);
      probe_str("signal", r.signaled ? probe_signal_name(r.sig) : NULL);
      probe_null("error");
    } else {
      probe_null("ret");
      probe_null("errno");
      probe_str("signal", r.signaled ? probe_signal_name(r.sig) : NULL);
      probe_str("error", r.signaled ? NULL : "child ended without reporting");
    }
    probe_obj_end();
  }
  probe_arr_end();
}

/* ------------------------------------------------------------------------------------------ */
/* Masked and read-only paths.                                                                 */

/* Device nodes other than /dev/null are never opened: opening some (a watchdog, a tape) acts. */
static int probe_openable(const struct stat* st) {
  if (S_ISCHR(st->st_mode)) return major(st->st_rdev) == 1 && minor(st->st_rdev) == 3;
  return !S_ISBLK(st->st_mode) && !S_ISFIFO(st->st_mode) && !S_ISSOCK(st->st_mode);
}

static void probe_path_head(const char* path, struct stat* st, int* exists) {
  probe_str("path", path);
  if (lstat(path, st) < 0) {
    *exists = errno == ENOENT ? 0 : -1;
    if (*exists == 0)
      probe_bool("exists", 0);
    else {
      probe_null("exists");
      probe_error("lstat: %s", probe_errno_name(errno));
    }
    probe_null("type");
    probe_null("rdev");
    return;
  }
  *exists = 1;
  probe_bool("exists", 1);
  probe_str("type", probe_file_type(st->st_mode));
  if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
    char rdev[32];
    snprintf(rdev, sizeof rdev, "%u:%u", major(st->st_rdev), minor(st->st_rdev));
    probe_str("rdev", rdev);
  } else {
    probe_null("rdev");
  }
}

/* Opens for writing without writing a byte: the open alone tells whether writes are refused. */
static void probe_write_open(const char* path, const struct stat* st) {
  if (S_ISDIR(st->st_mode) || !probe_openable(st)) {
    probe_null("write_ok");
    probe_null("write_errno");
    return;
  }
  int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
  if (fd < 0) {
    probe_bool("write_ok", 0);
    probe_str("write_errno", probe_errno_name(errno));
  } else {
    close(fd);
    probe_bool("write_ok", 1);
    probe_null("write_errno");
  }
}

static void probe_masked_paths(const struct probe_options* o) {
  probe_arr("masked_paths");
  for (int i = 0; i < o->n_masked; i++) {
    struct stat st;
    int exists;
    probe_obj(NULL);
    probe_error_count = 0;
    probe_path_head(o->masked[i], &st, &exists);
    if (exists != 1) {
      probe_null("read_bytes");
      probe_null("read_errno");
      probe_null("entries");
      probe_null("write_ok");
      probe_null("write_errno");
    } else if (S_ISDIR(st.st_mode)) {
      probe_null("read_bytes");
      probe_null("read_errno");
      DIR* d = opendir(o->masked[i]);
      if (!d) {
        probe_null("entries");
        probe_error("opendir: %s", probe_errno_name(errno));
      } else {
        long long count = 0;
        struct dirent* de;
        while ((de = readdir(d)))
          if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) count++;
        closedir(d);
        probe_int("entries", count);
      }
      probe_write_open(o->masked[i], &st);
    } else {
      if (!probe_openable(&st)) {
        probe_null("read_bytes");
        probe_null("read_errno");
      } else {
        /* Only the first bytes matter (empty or not); /proc/kcore must not be read whole. */
        char buf[PROBE_READ_LIMIT];
        int fd = open(o->masked[i], O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
        if (fd < 0) {
          probe_null("read_bytes");
          probe_str("read_errno", probe_errno_name(errno));
        } else {
          ssize_t n = read(fd, buf, sizeof buf);
          if (n < 0) {
            probe_null("read_bytes");
            probe_str("read_errno", probe_errno_name(errno));
          } else {
            probe_int("read_bytes", n);
            probe_null("read_errno");
          }
          close(fd);
        }
      }
      probe_null("entries");
      probe_write_open(o->masked[i], &st);
    }
    probe_section_end();
  }
  probe_arr_end();
}

static void probe_readonly_paths(const struct probe_options* o) {
  probe_arr("readonly_paths");
  for (int i = 0; i < o->n_readonly; i++) {
    struct stat st;
    struct statvfs vfs;
    int exists;
    probe_obj(NULL);
    probe_error_count = 0;
    probe_path_head(o->readonly[i], &st, &exists);
    if (exists != 1) {
      probe_null("ro_mount");
      probe_null("access_w_errno");
      probe_null("write_ok");
      probe_null("write_errno");
    } else {
      if (statvfs(o->readonly[i], &vfs) < 0) {
        probe_null("ro_mount");
        probe_error("statvfs: %s", probe_errno_name(errno));
      } else {
        probe_bool("ro_mount", (vfs.f_flag & ST_RDONLY) != 0);
      }
      /* access(W_OK) reports EROFS for a read-only mount, also for directories that cannot
       * be opened for writing. */
      if (faccessat(AT_FDCWD, o->readonly[i], W_OK, AT_EACCESS | AT_SYMLINK_NOFOLLOW) < 0)
        probe_str("access_w_errno", probe_errno_name(errno));
      else
        probe_null("access_w_errno");
      probe_write_open(o->readonly[i], &st);
    }
    probe_section_end();
  }
  probe_arr_end();
}

/* ------------------------------------------------------------------------------------------ */
/* debugfs and mknod.                                                                          */

/* A private directory for the attempts that create something, in the scratch dir or, when a
 * minimal rootfs has none, in /dev (a tmpfs under LXC's autodev) or /run; NULL when none can
 * be made (errno from the first attempt). */
static char* probe_scratch_dir(const char* base) {
  static char dir[PATH_MAX];
  const char* bases[] = {base, "/tmp", "/dev", "/run"};
  int first_errno = 0;
  for (size_t i = 0; i < sizeof bases / sizeof bases[0]; i++) {
    snprintf(dir, sizeof dir, "%s/droidway-probe-XXXXXX", bases[i]);
    if (mkdtemp(dir)) return dir;
    if (!first_errno) first_errno = errno;
  }
  errno = first_errno;
  return NULL;
}

static long probe_try_debugfs(void* arg) {
  const char* target = arg;
  /* A private mount namespace when allowed, so a successful mount never leaves this child;
   * otherwise the mount is detached again right away. */
  if (syscall(SYS_unshare, CLONE_NEWNS) == 0)
    syscall(SYS_mount, NULL, "/", NULL, (unsigned long)(MS_REC | MS_PRIVATE), NULL);
  long r = syscall(SYS_mount, "debugfs", target, "debugfs",
                   (unsigned long)(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC), NULL);
  if (r == 0) {
    int saved = errno;
    syscall(SYS_umount2, target, MNT_DETACH);
    errno = saved;
  }
  return r;
}

static void probe_debugfs(const struct probe_options* o) {
  probe_section_begin("debugfs");
  char mounts[65536];
  ssize_t n = probe_read_file("/proc/self/mounts", mounts, sizeof mounts);
  if (n < 0) {
    probe_null("mounted_at");
    probe_error("/proc/self/mounts: %s", probe_errno_name((int)-n));
  } else {
    probe_arr("mounted_at");
    char* save = NULL;
    for (char* line = strtok_r(mounts, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
      char* f_save = NULL;
      strtok_r(line, " ", &f_save);
      char* target = strtok_r(NULL, " ", &f_save);
      char* type = strtok_r(NULL, " ", &f_save);
      if (target && type && strcmp(type, "debugfs") == 0) probe_str(NULL, target);
    }
    probe_arr_end();
    if ((size_t)n + 1 >= sizeof mounts) probe_error("/proc/self/mounts: truncated at %zd bytes", n);
  }
  char* dir = probe_scratch_dir(o->scratch);
  if (!dir) {
    probe_null("mount_ok");
    probe_null("mount_errno");
    probe_error("scratch dir in %s: %s", o->scratch, probe_errno_name(errno));
  } else {
    struct probe_child_result r = probe_in_child(probe_try_debugfs, dir, PROBE_SYSCALL_TIMEOUT_S);
    if (r.reported) {
      probe_bool("mount_ok", r.ret == 0);
      probe_str("mount_errno", r.ret < 0 ? probe_errno_name(r.err) : NULL);
    } else {
      probe_null("mount_ok");
      probe_null("mount_errno");
      if (r.signaled)
        probe_error("mount attempt: %s", probe_signal_name(r.sig));
      else
        probe_error("mount attempt: %s", probe_errno_name(r.fork_errno));
    }
    rmdir(dir);
  }
  probe_section_end();
}

static void probe_mknod(const struct probe_options* o) {
  probe_section_begin("mknod");
  char* dir = probe_scratch_dir(o->scratch);
  if (!dir) {
    probe_null("created");
    probe_null("errno");
    probe_error("scratch dir in %s: %s", o->scratch, probe_errno_name(errno));
  } else {
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/node", dir);
    /* 1:7 is /dev/full: harmless even in the moment it exists; removed right away. */
    if (mknodat(AT_FDCWD, path, S_IFCHR | 0600, makedev(1, 7)) < 0) {
      probe_bool("created", 0);
      probe_str("errno", probe_errno_name(errno));
    } else {
      probe_bool("created", 1);
      probe_null("errno");
      unlink(path);
    }
    rmdir(dir);
  }
  probe_section_end();
}

/* ------------------------------------------------------------------------------------------ */
/* Device nodes.                                                                               */

static int probe_device_count;
static int probe_device_truncated;

static void probe_walk_dev(const char* dir, int depth) {
  DIR* d = opendir(dir);
  if (!d) {
    probe_error("opendir %s: %s", dir, probe_errno_name(errno));
    return;
  }
  struct dirent* de;
  while ((de = readdir(d))) {
    if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path) continue;
    struct stat st;
    if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) continue;
    if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      if (probe_device_count >= PROBE_MAX_DEVICES) {
        probe_device_truncated = 1;
        break;
      }
      probe_device_count++;
      probe_obj(NULL);
      probe_str("path", path);
      probe_str("type", S_ISCHR(st.st_mode) ? "c" : "b");
      probe_int("major", major(st.st_rdev));
      probe_int("minor", minor(st.st_rdev));
      probe_obj_end();
    } else if (S_ISDIR(st.st_mode) && depth < PROBE_MAX_DEV_DEPTH) {
      probe_walk_dev(path, depth + 1);
    }
  }
  closedir(d);
}

static void probe_devices(void) {
  probe_section_begin("devices");
  probe_device_count = 0;
  probe_device_truncated = 0;
  probe_arr("nodes");
  probe_walk_dev("/dev", 0);
  probe_arr_end();
  probe_bool("truncated", probe_device_truncated);
  probe_section_end();
}

/* ------------------------------------------------------------------------------------------ */
/* Network.                                                                                    */

static void probe_network(void) {
  probe_section_begin("network");
  /* /proc/self/net follows the reader's network namespace; /sys/class/net follows the one
   * sysfs was mounted in, so it is only the fallback. */
  char buf[65536];
  ssize_t n = probe_read_file("/proc/self/net/dev", buf, sizeof buf);
  if (n >= 0) {
    probe_str("source", "/proc/self/net/dev");
    probe_arr("interfaces");
    char* save = NULL;
    int line_no = 0;
    for (char* line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
      if (++line_no <= 2) continue;
      char* colon = strchr(line, ':');
      if (!colon) continue;
      *colon = '\0';
      while (*line == ' ') line++;
      probe_str(NULL, line);
    }
    probe_arr_end();
  } else {
    probe_error("/proc/self/net/dev: %s", probe_errno_name((int)-n));
    DIR* d = opendir("/sys/class/net");
    if (!d) {
      probe_null("source");
      probe_null("interfaces");
      probe_error("/sys/class/net: %s", probe_errno_name(errno));
    } else {
      probe_str("source", "/sys/class/net");
      probe_arr("interfaces");
      struct dirent* de;
      while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) probe_str(NULL, de->d_name);
      probe_arr_end();
      closedir(d);
    }
  }
  probe_section_end();
}

/* Non-blocking connect with a deadline; returns 0 when connected, else an errno (ETIMEDOUT for
 * the deadline). */
static int probe_connect(int domain, const struct sockaddr* addr, socklen_t len) {
  int fd = socket(domain, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return errno;
  int result = 0;
  if (connect(fd, addr, len) < 0) {
    if (errno != EINPROGRESS) {
      result = errno;
    } else {
      struct pollfd p = {.fd = fd, .events = POLLOUT};
      int r = poll(&p, 1, PROBE_CONNECT_TIMEOUT_MS);
      if (r == 0) {
        result = ETIMEDOUT;
      } else if (r < 0) {
        result = errno;
      } else {
        int so = 0;
        socklen_t sl = sizeof so;
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) < 0) so = errno;
        result = so;
      }
    }
  }
  close(fd);
  return result;
}

static void probe_host_sockets(const struct probe_options* o) {
  probe_section_begin("host_tcp");
  if (o->host_tcp_port <= 0) {
    probe_null("port");
    probe_null("connected");
    probe_null("errno");
  } else {
    struct sockaddr_in sin = {.sin_family = AF_INET,
                              .sin_port = htons((uint16_t)o->host_tcp_port),
                              .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int e = probe_connect(AF_INET, (struct sockaddr*)&sin, sizeof sin);
    probe_int("port", o->host_tcp_port);
    probe_bool("connected", e == 0);
    probe_str("errno", e ? probe_errno_name(e) : NULL);
  }
  probe_section_end();

  probe_section_begin("host_abstract");
  if (!o->host_abstract) {
    probe_null("name");
    probe_null("connected");
    probe_null("errno");
  } else {
    /* Abstract names start with a NUL byte and are not NUL-terminated: the address length is
     * part of the name. Some binders (libuv, hence Node) pass the whole sun_path, so the name
     * is padded with NULs; the exact-length name is tried first, then the padded one. */
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    size_t len = strlen(o->host_abstract);
    memcpy(sun.sun_path + 1, o->host_abstract, len);
    int e = probe_connect(AF_UNIX, (struct sockaddr*)&sun,
                          (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + len));
    if (e != 0 && 1 + len < sizeof sun.sun_path)
      e = probe_connect(AF_UNIX, (struct sockaddr*)&sun, (socklen_t)sizeof sun);
    probe_str("name", o->host_abstract);
    probe_bool("connected", e == 0);
    probe_str("errno", e ? probe_errno_name(e) : NULL);
  }
  probe_section_end();
}

/* ------------------------------------------------------------------------------------------ */
/* SysV IPC.                                                                                   */

static void probe_ipc_result(const char* found_key, const char* errno_key, int r) {
  if (r >= 0) {
    probe_bool(found_key, 1);
    probe_null(errno_key);
  } else {
    probe_bool(found_key, 0);
    probe_str(errno_key, probe_errno_name(errno));
  }
}

static void probe_ipc(const struct probe_options* o) {
  probe_section_begin("host_ipc");
  if (!o->has_ipc_key) {
    probe_null("key");
    probe_null("msg_found");
    probe_null("msg_errno");
    probe_null("shm_found");
    probe_null("shm_errno");
    probe_null("sem_found");
    probe_null("sem_errno");
  } else {
    key_t key = (key_t)o->host_ipc_key;
    probe_int("key", o->host_ipc_key);
    /* Lookups only (no IPC_CREAT): an object with that key exists in this IPC namespace or
     * ENOENT. */
    probe_ipc_result("msg_found", "msg_errno", msgget(key, 0));
    probe_ipc_result("shm_found", "shm_errno", shmget(key, 0, 0));
    probe_ipc_result("sem_found", "sem_errno", semget(key, 0, 0));
  }
  probe_section_end();
}

/* ------------------------------------------------------------------------------------------ */
/* Hostname.                                                                                   */

static void probe_hostname(void) {
  struct utsname u;
  probe_section_begin("hostname");
  if (uname(&u) < 0) {
    probe_null("nodename");
    probe_null("domainname");
    probe_null("machine");
    probe_error("uname: %s", probe_errno_name(errno));
  } else {
    probe_str("nodename", u.nodename);
    probe_str("domainname", u.domainname);
    probe_str("machine", u.machine);
  }
  probe_section_end();
}

/* ------------------------------------------------------------------------------------------ */
/* Memory limit.                                                                               */

struct probe_cgroup_memory {
  char source[PATH_MAX];
  long long failcnt;
  long long oom_kill;
};

/* The value on the "key N" line of a flat-keyed cgroup file, or -1. */
static long long probe_keyed_value(const char* text, const char* key) {
  size_t klen = strlen(key);
  const char* line = text;
  while (line && *line) {
    if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
      return strtoll(line + klen + 1, NULL, 10);
    line = strchr(line, '\n');
    if (line) line++;
  }
  return -1;
}

/* Reads the memory cgroup counters of this process: v1 `memory.failcnt` and the `oom_kill`
 * line of `memory.oom_control`, or v2 `memory.events`. The directory is found from
 * /proc/self/cgroup, relative to where cgroupfs is mounted (a cgroup namespace shows "/"). */
static int probe_cgroup_memory(struct probe_cgroup_memory* m) {
  char cg[4096];
  char text[4096];
  m->source[0] = '\0';
  m->failcnt = -1;
  m->oom_kill = -1;
  ssize_t n = probe_read_file("/proc/self/cgroup", cg, sizeof cg);
  if (n < 0) return (int)n;
  char* save = NULL;
  for (char* line = strtok_r(cg, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char* c1 = strchr(line, ':');
    char* c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c2) continue;
    *c2 = '\0';
    const char* controllers = c1 + 1;
    const char* path = c2 + 1;
    if (strcmp(path, "/") == 0) path = "";
    int v2 = controllers[0] == '\0';
    int v1_memory = 0;
    char ctl[256];
    snprintf(ctl, sizeof ctl, ",%s,", controllers);
    if (strstr(ctl, ",memory,")) v1_memory = 1;
    if (!v1_memory && !v2) continue;
    const char* bases_v1[] = {"/sys/fs/cgroup/memory", NULL};
    const char* bases_v2[] = {"/sys/fs/cgroup", "/sys/fs/cgroup/unified", NULL};
    const char* const* bases = v1_memory ? bases_v1 : bases_v2;
    for (int b = 0; bases[b]; b++) {
      for (int with_path = 1; with_path >= 0; with_path--) {
        char dir[PATH_MAX];
        char file[PATH_MAX + 32];
        snprintf(dir, sizeof dir, "%s%s", bases[b], with_path ? path : "");
        if (v1_memory) {
          snprintf(file, sizeof file, "%s/memory.failcnt", dir);
          if (probe_read_file(file, text, sizeof text) < 0) continue;
          m->failcnt = strtoll(text, NULL, 10);
          snprintf(file, sizeof file, "%s/memory.oom_control", dir);
          if (probe_read_file(file, text, sizeof text) >= 0)
            m->oom_kill = probe_keyed_value(text, "oom_kill");
        } else {
          snprintf(file, sizeof file, "%s/memory.events", dir);
          if (probe_read_file(file, text, sizeof text) < 0) continue;
          m->oom_kill = probe_keyed_value(text, "oom_kill");
        }
        snprintf(m->source, sizeof m->source, "%s", dir);
        return 0;
      }
    }
  }
  return -ENOENT;
}

struct probe_memory_arg {
  long long max_bytes;
  long long step;
  int progress_fd;
};

/* Allocates and touches memory step by step, telling the parent after each step how much is
 * resident, until max_bytes: under a working limit the OOM killer ends this child first. */
static long probe_memory_child(void* p) {
  struct probe_memory_arg* a = p;
  long page = sysconf(_SC_PAGESIZE);
  if (page <= 0) page = 4096;
  long long total = 0;
  while (total < a->max_bytes) {
    char* m =
        mmap(NULL, (size_t)a->step, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return -1;
    for (long long off = 0; off < a->step; off += page) m[off] = (char)1;
    total += a->step;
    if (write(a->progress_fd, &total, sizeof total) != (ssize_t)sizeof total) return -1;
  }
  return 0;
}

static void probe_memory_test(const struct probe_options* o) {
  probe_section_begin("memory_test");
  if (o->memory_limit <= 0) {
    probe_bool("requested", 0);
    probe_null("limit_bytes");
    probe_null("max_bytes");
    probe_null("reached_bytes");
    probe_null("killed");
    probe_null("signal");
    probe_null("alloc_errno");
  } else {
    struct probe_cgroup_memory before, after;
    int cg_before = probe_cgroup_memory(&before);
    long long step = o->memory_limit / 32;
    if (step < (1LL << 20)) step = 1LL << 20;
    step = (step + 4095) & ~4095LL;
    struct probe_memory_arg arg = {.max_bytes = 2 * o->memory_limit, .step = step};
    int fds[2];
    probe_bool("requested", 1);
    probe_int("limit_bytes", o->memory_limit);
    probe_int("max_bytes", arg.max_bytes);
    if (pipe2(fds, O_CLOEXEC) < 0) {
      probe_null("reached_bytes");
      probe_null("killed");
      probe_null("signal");
      probe_null("alloc_errno");
      probe_error("pipe: %s", probe_errno_name(errno));
    } else {
      /* The parent reads the progress only after the child ended: at most 64 steps of 8
       * bytes fit in the pipe buffer, so the child never blocks on it. */
      arg.progress_fd = fds[1];
      struct probe_child_result r =
          probe_in_child(probe_memory_child, &arg, PROBE_MEMORY_TIMEOUT_S);
      close(fds[1]);
      long long reached = 0, v;
      while (read(fds[0], &v, sizeof v) == (ssize_t)sizeof v) reached = v;
      close(fds[0]);
      probe_int("reached_bytes", reached);
      if (!r.started) {
        probe_null("killed");
        probe_null("signal");
        probe_null("alloc_errno");
        probe_error("fork: %s", probe_errno_name(r.fork_errno));
      } else {
        probe_bool("killed", r.signaled && r.sig == SIGKILL);
        probe_str("signal", r.signaled ? probe_signal_name(r.sig) : NULL);
        probe_str("alloc_errno", r.reported && r.ret < 0 && r.err ? probe_errno_name(r.err) : NULL);
      }
    }
    int cg_after = probe_cgroup_memory(&after);
    probe_obj("cgroup");
    probe_str("source", cg_after == 0 ? after.source : NULL);
    if (cg_before == 0 && cg_after == 0 && before.failcnt >= 0 && after.failcnt >= 0) {
      probe_int("failcnt_before", before.failcnt);
      probe_int("failcnt_after", after.failcnt);
    } else {
      probe_null("failcnt_before");
      probe_null("failcnt_after");
    }
    if (cg_before == 0 && cg_after == 0 && before.oom_kill >= 0 && after.oom_kill >= 0) {
      probe_int("oom_kill_before", before.oom_kill);
      probe_int("oom_kill_after", after.oom_kill);
    } else {
      probe_null("oom_kill_before");
      probe_null("oom_kill_after");
    }
    probe_obj_end();
    if (cg_after != 0) probe_error("memory cgroup counters: %s", probe_errno_name(-cg_after));
  }
  probe_section_end();
}

/* ------------------------------------------------------------------------------------------ */
/* pids limit.                                                                                 */

static void probe_pids_test(const struct probe_options* o) {
  probe_section_begin("pids_test");
  if (o->pids_max <= 0) {
    probe_bool("requested", 0);
    probe_null("max");
    probe_null("forked");
    probe_null("fork_errno");
    probe_null("reaped");
  } else {
    pid_t* pids = calloc((size_t)o->pids_max, sizeof *pids);
    int fds[2];
    probe_bool("requested", 1);
    probe_int("max", o->pids_max);
    if (!pids || pipe2(fds, O_CLOEXEC) < 0) {
      probe_null("forked");
      probe_null("fork_errno");
      probe_null("reaped");
      probe_error("setup: %s", probe_errno_name(pids ? errno : ENOMEM));
    } else {
      long long forked = 0;
      int fork_errno = 0;
      while (forked < o->pids_max) {
        pid_t pid = fork();
        if (pid < 0) {
          fork_errno = errno;
          break;
        }
        if (pid == 0) {
          /* Each child waits for EOF on the pipe: when the probe closes its end, or dies, all
           * of them leave, so none can outlive the test. The alarm is a second net. */
          char c;
          close(fds[1]);
          alarm(60);
          while (read(fds[0], &c, 1) < 0 && errno == EINTR) {
          }
          _exit(0);
        }
        pids[forked++] = pid;
      }
      close(fds[1]);
      close(fds[0]);
      long long reaped = 0;
      for (long long i = 0; i < forked; i++) kill(pids[i], SIGKILL);
      for (long long i = 0; i < forked; i++) {
        int st;
        pid_t r;
        do {
          r = waitpid(pids[i], &st, 0);
        } while (r < 0 && errno == EINTR);
        if (r == pids[i]) reaped++;
      }
      probe_int("forked", forked);
      probe_str("fork_errno", fork_errno ? probe_errno_name(fork_errno) : NULL);
      probe_int("reaped", reaped);
    }
    free(pids);
  }
  probe_section_end();
}

/* ------------------------------------------------------------------------------------------ */
/* init's open fds and working directories.                                                    */

static void probe_init_fds(void) {
  probe_section_begin("init_fds");
  DIR* d = opendir("/proc/1/fd");
  if (!d) {
    probe_null("fds");
    probe_error("/proc/1/fd: %s", probe_errno_name(errno));
  } else {
    int count = 0;
    probe_arr("fds");
    struct dirent* de;
    while ((de = readdir(d))) {
      if (de->d_name[0] == '.') continue;
      if (++count > PROBE_MAX_FDS) {
        probe_error("more than %d fds; list truncated", PROBE_MAX_FDS);
        break;
      }
      char path[PATH_MAX];
      char target[PATH_MAX];
      snprintf(path, sizeof path, "/proc/1/fd/%s", de->d_name);
      ssize_t n = readlink(path, target, sizeof target - 1);
      probe_obj(NULL);
      probe_int("fd", strtoll(de->d_name, NULL, 10));
      if (n < 0) {
        probe_null("target");
        probe_str("errno", probe_errno_name(errno));
      } else {
        target[n] = '\0';
        probe_str("target", target);
        probe_null("errno");
      }
      probe_obj_end();
    }
    probe_arr_end();
    closedir(d);
  }
  probe_section_end();
}

/* Whether directory `path` lies under this process's root: walking ".." from it meets "/"
 * (the kernel stops ".." at a process's root only when the walk passes through it; a
 * directory outside climbs to the top of its mount tree without meeting it). Returns 1, 0 or
 * -errno. */
static int probe_within_root(const char* path) {
  struct stat root, st, parent;
  if (stat("/", &root) < 0) return -errno;
  int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return -errno;
  for (int i = 0; i < 4096; i++) {
    if (fstat(fd, &st) < 0) {
      int e = errno;
      close(fd);
      return -e;
    }
    if (st.st_dev == root.st_dev && st.st_ino == root.st_ino) {
      close(fd);
      return 1;
    }
    int up = openat(fd, "..", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (up < 0) {
      int e = errno;
      close(fd);
      return -e;
    }
    if (fstat(up, &parent) < 0) {
      int e = errno;
      close(up);
      close(fd);
      return -e;
    }
    close(fd);
    fd = up;
    if (parent.st_dev == st.st_dev && parent.st_ino == st.st_ino) break;
  }
  close(fd);
  return 0;
}

static void probe_cwd_of(const char* key, const char* within_key, const char* link) {
  char target[PATH_MAX];
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n < 0) {
    probe_null(key);
    probe_error("%s: %s", link, probe_errno_name(errno));
  } else {
    target[n] = '\0';
    probe_str(key, target);
  }
  int w = probe_within_root(link);
  if (w < 0) {
    probe_null(within_key);
    probe_error("%s walk: %s", link, probe_errno_name(-w));
  } else {
    probe_bool(within_key, w);
  }
}

static void probe_cwd(void) {
  probe_section_begin("cwd");
  probe_cwd_of("self", "self_within_root", "/proc/self/cwd");
  probe_cwd_of("init", "init_within_root", "/proc/1/cwd");
  probe_section_end();
}

/* ------------------------------------------------------------------------------------------ */
/* Debugging another process.                                                                  */

/* Each attempt targets the guest's init (PID 1), a process the probe did not start. They only
 * look: /proc/1/mem is opened and closed, the process_vm_* calls name address 0 (never mapped,
 * so a call the kernel lets through fails with EFAULT instead of touching memory), a stolen fd
 * is closed at once, and kcmp compares. */
#define PROBE_DEBUG_TARGET 1

static long probe_dbg_proc_mem(void* a) {
  (void)a;
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/mem", PROBE_DEBUG_TARGET);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  close(fd);
  return 0;
}
static long probe_dbg_vm(int write) {
  char buf[16] = {0};
  struct iovec local = {buf, write ? 1 : sizeof buf};
  struct iovec remote = {NULL, local.iov_len};
  return syscall(write ? SYS_process_vm_writev : SYS_process_vm_readv, PROBE_DEBUG_TARGET, &local,
                 1UL, &remote, 1UL, 0UL);
}
static long probe_dbg_vm_readv(void* a) {
  (void)a;
  return probe_dbg_vm(0);
}
static long probe_dbg_vm_writev(void* a) {
  (void)a;
  return probe_dbg_vm(1);
}
static long probe_dbg_pidfd_getfd(void* a) {
  (void)a;
  long pidfd = syscall(SYS_pidfd_open, PROBE_DEBUG_TARGET, 0U);
  if (pidfd < 0) return -1;
  long fd = syscall(SYS_pidfd_getfd, (int)pidfd, 0, 0U);
  int saved = errno;
  if (fd >= 0) close((int)fd);
  close((int)pidfd);
  errno = saved;
  return fd < 0 ? -1 : 0;
}
/* KCMP_FILE (0): whether our fd 0 and the target's fd 0 are the same open file. */
static long probe_dbg_kcmp(void* a) {
  (void)a;
  return syscall(SYS_kcmp, getpid(), PROBE_DEBUG_TARGET, 0, 0UL, 0UL);
}

static const struct probe_syscall probe_debug_attempts[] = {
    {"proc_mem", probe_dbg_proc_mem},
    {"process_vm_readv", probe_dbg_vm_readv},
    {"process_vm_writev", probe_dbg_vm_writev},
    {"pidfd_getfd", probe_dbg_pidfd_getfd},
    {"kcmp", probe_dbg_kcmp},
};

static void probe_debug(void) {
  probe_section_begin("debug");
  probe_int("target", PROBE_DEBUG_TARGET);
  probe_arr("attempts");
  for (size_t i = 0; i < sizeof probe_debug_attempts / sizeof probe_debug_attempts[0]; i++) {
    struct probe_child_result r =
        probe_in_child(probe_debug_attempts[i].fn, NULL, PROBE_SYSCALL_TIMEOUT_S);
    probe_obj(NULL);
    probe_str("name", probe_debug_attempts[i].name);
    if (r.reported) {
      probe_int("ret", r.ret);
      probe_str("errno", r.ret < 0 ? probe_errno_name(r.err) : NULL);
      probe_null("signal");
      probe_null("error");
    } else {
      probe_null("ret");
      probe_null("errno");
      probe_str("signal", r.signaled ? probe_signal_name(r.sig) : NULL);
      probe_str("error", r.signaled  ? NULL
                         : r.started ? "child ended without reporting"
                                     : probe_errno_name(r.fork_errno));
    }
    probe_obj_end();
  }
  probe_arr_end();
  probe_section_end();
}

/* ------------------------------------------------------------------------------------------ */
/* Escape attempts.                                                                            */

/* Each attack runs in a child (a seccomp kill or a hang cannot end the probe) and answers with
 * 0 when it reached its goal, or -STEP with errno set at the step that was refused. Nothing is
 * left changed: a file created through a remounted bind is removed and the bind made read-only
 * again, knobs are opened for writing but never written, a binfmt_misc rule (random magic, an
 * interpreter that does not exist) is removed right after it was accepted, fresh mounts are
 * detached. Whether an accepted binfmt_misc rule could reach the host depends on the user
 * namespace (kernels since 6.7 keep one binfmt_misc instance per user namespace): the verifier
 * judges that with the namespace inodes. */
enum probe_step {
  PROBE_STEP_NONE,
  PROBE_STEP_SETUP,
  PROBE_STEP_REMOUNT,
  PROBE_STEP_CREATE,
  PROBE_STEP_MOUNT,
  PROBE_STEP_OPEN,
  PROBE_STEP_WRITE,
  PROBE_STEP_INIT,
  PROBE_STEP_MARK,
  PROBE_STEP_COUNT
};
static const char* const probe_step_names[PROBE_STEP_COUNT] = {
    NULL, "setup", "remount", "create", "mount", "open", "write", "init", "mark"};

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#endif
struct probe_mount_attr {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};

struct probe_escape {
  const char* name;
  char target[PATH_MAX];
  /* For fresh mounts: fstype, data, and the file opened for writing relative to the mount. */
  const char* fstype;
  const char* data;
  const char* file;
  const char* binfmt_name;
};

static long probe_fail(enum probe_step step) {
  return -(long)step;
}

/* A private mount namespace when the guest may make one, so nothing the attack mounts outlives
 * the child; where it may not, the attack detaches its mounts itself. */
static void probe_private_mounts(void) {
  if (syscall(SYS_unshare, CLONE_NEWNS) == 0)
    syscall(SYS_mount, NULL, "/", NULL, (unsigned long)(MS_REC | MS_PRIVATE), NULL);
  errno = 0;
}

static long probe_esc_remount(void* p) {
  const struct probe_escape* e = p;
  probe_private_mounts();
  unsigned long rw = MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV;
  if (syscall(SYS_mount, NULL, e->target, NULL, rw, NULL) < 0) {
    int first = errno;
#ifdef SYS_mount_setattr
    struct probe_mount_attr attr = {.attr_clr = MOUNT_ATTR_RDONLY};
    if (syscall(SYS_mount_setattr, AT_FDCWD, e->target, 0U, &attr, sizeof attr) < 0) {
      errno = first;
      return probe_fail(PROBE_STEP_REMOUNT);
    }
#else
    errno = first;
    return probe_fail(PROBE_STEP_REMOUNT);
#endif
  }
  char file[PATH_MAX + 64];
  snprintf(file, sizeof file, "%s/.droidway-probe-escape-%d", e->target, (int)getpid());
  int fd = open(file, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  int saved = errno;
  if (fd >= 0) {
    close(fd);
    unlink(file);
  }
  syscall(SYS_mount, NULL, e->target, NULL, rw | MS_RDONLY, NULL);
  if (fd < 0) {
    errno = saved;
    return probe_fail(PROBE_STEP_CREATE);
  }
  return 0;
}

/* Writes a binfmt_misc rule: a random magic no real file starts with, an interpreter that does
 * not exist. */
static int probe_binfmt_register(int fd, const char* name) {
  unsigned char magic[12];
  int rnd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (rnd < 0 || read(rnd, magic, sizeof magic) != (ssize_t)sizeof magic) {
    if (rnd >= 0) close(rnd);
    for (size_t i = 0; i < sizeof magic; i++) magic[i] = (unsigned char)(0xA5 ^ (i * 37));
  } else {
    close(rnd);
  }
  char rule[256];
  int n = snprintf(rule, sizeof rule, ":%s:M::\\x7fDWP", name);
  for (size_t i = 0; i < sizeof magic && n > 0 && (size_t)n < sizeof rule - 8; i++)
    n += snprintf(rule + n, sizeof rule - (size_t)n, "\\x%02x", magic[i]);
  n += snprintf(rule + n, sizeof rule - (size_t)n, "::/nonexistent/droidway-probe-interp:");
  if (n <= 0 || (size_t)n >= sizeof rule) {
    errno = ENAMETOOLONG;
    return -1;
  }
  return write(fd, rule, (size_t)n) == n ? 0 : -1;
}

static long probe_esc_fresh_mount(void* p) {
  const struct probe_escape* e = p;
  probe_private_mounts();
  if (syscall(SYS_mount, e->fstype, e->target, e->fstype,
              (unsigned long)(MS_NOSUID | MS_NODEV | MS_NOEXEC), e->data) < 0)
    return probe_fail(PROBE_STEP_MOUNT);
  char file[PATH_MAX + 64];
  snprintf(file, sizeof file, "%s/%s", e->target, e->file);
  int fd = open(file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  long result = 0;
  int saved = errno;
  if (fd < 0) {
    result = probe_fail(PROBE_STEP_OPEN);
  } else {
    if (e->binfmt_name) {
      if (probe_binfmt_register(fd, e->binfmt_name) < 0) {
        saved = errno;
        result = probe_fail(PROBE_STEP_WRITE);
      } else {
        snprintf(file, sizeof file, "%s/%s", e->target, e->binfmt_name);
        int rule = open(file, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (rule >= 0) {
          if (write(rule, "-1", 2) != 2) {
            /* Still removed with the instance's last mount, or its user namespace. */
          }
          close(rule);
        }
      }
    }
    close(fd);
  }
  syscall(SYS_umount2, e->target, MNT_DETACH);
  errno = saved;
  return result;
}

/* A mounted knob (an existing cgroup limit file): opened for writing, never written. */
static long probe_esc_open_existing(void* p) {
  const struct probe_escape* e = p;
  int fd = open(e->target, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return probe_fail(errno == ENOENT ? PROBE_STEP_SETUP : PROBE_STEP_OPEN);
  close(fd);
  return 0;
}

#ifndef FAN_MARK_FILESYSTEM
#define FAN_MARK_FILESYSTEM 0x00000100
#endif
#ifndef FAN_REPORT_FID
#define FAN_REPORT_FID 0x00000200
#endif
/* A filesystem-wide mark on the file system of a host-backed folder: every open on the host's
 * file system would be reported. FAN_REPORT_FID is the mode the kernel allows without
 * CAP_SYS_ADMIN in the initial user namespace, tried when the plain one is refused. */
static long probe_esc_fanotify(void* p) {
  const struct probe_escape* e = p;
  long fd = syscall(SYS_fanotify_init, 0x00000000U /* FAN_CLASS_NOTIF */ | 0x00000001U,
                    (unsigned)O_RDONLY);
  if (fd < 0) fd = syscall(SYS_fanotify_init, FAN_REPORT_FID | 0x00000001U, (unsigned)O_RDONLY);
  if (fd < 0) return probe_fail(PROBE_STEP_INIT);
  long r = syscall(SYS_fanotify_mark, (int)fd, 0x00000001U /* FAN_MARK_ADD */ | FAN_MARK_FILESYSTEM,
                   0x00000020ULL /* FAN_OPEN */, AT_FDCWD, e->target);
  int saved = errno;
  close((int)fd);
  errno = saved;
  return r < 0 ? probe_fail(PROBE_STEP_MARK) : 0;
}

static void probe_escape_report(const char* name, const char* target, struct probe_child_result r) {
  probe_obj(NULL);
  probe_str("name", name);
  probe_str("target", target);
  if (r.reported) {
    long step = r.ret < 0 ? -r.ret : 0;
    probe_bool("succeeded", r.ret == 0);
    probe_str("step", step > 0 && step < PROBE_STEP_COUNT ? probe_step_names[step] : NULL);
    probe_str("errno", r.ret < 0 && r.err ? probe_errno_name(r.err) : NULL);
    probe_null("error");
  } else {
    probe_null("succeeded");
    probe_null("step");
    probe_null("errno");
    char msg[64];
    if (r.signaled)
      snprintf(msg, sizeof msg, "attempt ended by %s", probe_signal_name(r.sig));
    else if (!r.started)
      snprintf(msg, sizeof msg, "fork: %s", probe_errno_name(r.fork_errno));
    else
      snprintf(msg, sizeof msg, "child ended without reporting");
    probe_str("error", msg);
  }
  probe_obj_end();
}

static void probe_escape_run(const char* name, long (*fn)(void*), struct probe_escape* e) {
  struct probe_child_result r = probe_in_child(fn, e, PROBE_SYSCALL_TIMEOUT_S);
  probe_escape_report(name, e->target, r);
}

/* A fresh mount of `fstype` in a new folder of the scratch dir, then `file` in it opened for
 * writing. */
static void probe_escape_fresh(const char* name, const char* dir, const char* fstype,
                               const char* data, const char* file, const char* binfmt_name) {
  struct probe_escape e = {
      .fstype = fstype, .data = data, .file = file, .binfmt_name = binfmt_name};
  snprintf(e.target, sizeof e.target, "%s/%s", dir, name);
  if (mkdir(e.target, 0700) < 0) {
    probe_error("mkdir %s: %s", e.target, probe_errno_name(errno));
    struct probe_child_result r = {0};
    probe_escape_report(name, e.target, r);
    return;
  }
  probe_escape_run(name, probe_esc_fresh_mount, &e);
  rmdir(e.target);
}

static void probe_escape_existing(const char* name, const char* path) {
  struct probe_escape e = {0};
  snprintf(e.target, sizeof e.target, "%s", path);
  probe_escape_run(name, probe_esc_open_existing, &e);
}

static void probe_escapes(const struct probe_options* o) {
  probe_section_begin("escapes");
  probe_bool("requested", o->escapes);
  probe_arr("attempts");
  if (o->escapes) {
    /* The folder holding the probe: a read-only bind of a host folder in every session. */
    struct probe_escape bind = {0};
    ssize_t n = readlink("/proc/self/exe", bind.target, sizeof bind.target - 1);
    if (n > 0) {
      bind.target[n] = '\0';
      char* slash = strrchr(bind.target, '/');
      if (slash && slash != bind.target) *slash = '\0';
      probe_escape_run("remount-ro-bind", probe_esc_remount, &bind);
      probe_escape_run("fanotify-fs-mark", probe_esc_fanotify, &bind);
    } else {
      probe_error("/proc/self/exe: %s", probe_errno_name(errno));
    }
    char* dir = probe_scratch_dir(o->scratch);
    if (!dir) {
      probe_error("scratch dir in %s: %s", o->scratch, probe_errno_name(errno));
    } else {
      probe_escape_fresh("procfs-knob", dir, "proc", NULL, "sys/kernel/core_pattern", NULL);
      probe_escape_fresh("sysfs-knob", dir, "sysfs", NULL, "power/state", NULL);
      probe_escape_fresh("tracefs-knob", dir, "tracefs", NULL, "tracing_on", NULL);
      char rule_name[48];
      snprintf(rule_name, sizeof rule_name, "droidway_probe_%d", (int)getpid());
      probe_escape_fresh("binfmt-misc", dir, "binfmt_misc", NULL, "register", rule_name);
      probe_escape_fresh("cgroup-memory", dir, "cgroup", "memory", "memory.limit_in_bytes", NULL);
      probe_escape_fresh("cgroup-pids", dir, "cgroup", "pids", "pids.max", NULL);
      probe_escape_fresh("cgroup-devices", dir, "cgroup", "devices", "devices.allow", NULL);
      probe_escape_fresh("cgroup2", dir, "cgroup2", NULL, "memory.max", NULL);
      rmdir(dir);
    }
    probe_escape_existing("cgroup-memory", "/sys/fs/cgroup/memory/memory.limit_in_bytes");
    probe_escape_existing("cgroup-pids", "/sys/fs/cgroup/pids/pids.max");
    probe_escape_existing("cgroup-devices", "/sys/fs/cgroup/devices/devices.allow");
    probe_escape_existing("cgroup2", "/sys/fs/cgroup/memory.max");
    probe_escape_existing("cgroup2", "/sys/fs/cgroup/pids.max");
  }
  probe_arr_end();
  probe_section_end();
}

/* ------------------------------------------------------------------------------------------ */
/* Filling the writable layer, flooding the console.                                          */

#define PROBE_CHUNK (1 << 20)

struct probe_fill_arg {
  const char* dir;
  long long max;
  long long written;
  int err;
};

/* Writes zeros into a new file in `dir` until a write fails or `max` bytes are written, then
 * removes the file. Runs in a child (an OOM kill must not end the probe); the byte count comes
 * back through a pipe since the child's return value carries only the errno. */
static long probe_fill_child(void* p) {
  struct probe_fill_arg* a = p;
  char path[PATH_MAX + 64];
  snprintf(path, sizeof path, "%s/.droidway-probe-fill-%d", a->dir, (int)getpid());
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return -1;
  static char zeros[PROBE_CHUNK];
  long long total = 0;
  int err = 0;
  while (total < a->max) {
    size_t want = (size_t)(a->max - total < PROBE_CHUNK ? a->max - total : PROBE_CHUNK);
    ssize_t n = write(fd, zeros, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    total += n;
  }
  if (!err && fsync(fd) < 0) err = errno;
  close(fd);
  unlink(path);
  /* The total rides in the return value: -1 is a failed create, below that -(total + 2). */
  errno = err;
  return err ? -(total + 2) : total;
}

static void probe_fill(const struct probe_options* o) {
  probe_section_begin("fill_test");
  probe_bool("requested", o->fill_dir != NULL);
  probe_str("dir", o->fill_dir);
  if (!o->fill_dir) {
    probe_null("max_bytes");
    probe_null("written_bytes");
    probe_null("errno");
    probe_null("signal");
  } else {
    struct probe_fill_arg a = {.dir = o->fill_dir, .max = o->fill_max};
    struct probe_child_result r = probe_in_child(probe_fill_child, &a, PROBE_MEMORY_TIMEOUT_S);
    probe_int("max_bytes", o->fill_max);
    if (r.reported && r.ret == -1 && r.err) {
      probe_null("written_bytes");
      probe_str("errno", probe_errno_name(r.err));
      probe_error("creating the fill file: %s", probe_errno_name(r.err));
    } else if (r.reported) {
      probe_int("written_bytes", r.ret < 0 ? -r.ret - 2 : r.ret);
      probe_str("errno", r.ret < 0 ? probe_errno_name(r.err) : NULL);
    } else {
      probe_null("written_bytes");
      probe_null("errno");
    }
    probe_str("signal", r.signaled ? probe_signal_name(r.sig) : NULL);
    if (!r.started) probe_error("fork: %s", probe_errno_name(r.fork_errno));
  }
  probe_section_end();
}

/* Writes `console_bytes` to init's stdout (the pipe or socket the host logs), where a guest
 * process that inherited it would write. */
static long probe_console_child(void* p) {
  long long want = *(const long long*)p;
  int fd = open("/proc/1/fd/1", O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    /* A socket cannot be reopened through /proc (ENXIO); taking init's fd itself works where
     * debugging init is allowed. */
    int first = errno;
    long pidfd = syscall(SYS_pidfd_open, 1, 0U);
    fd = pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, (int)pidfd, 1, 0U);
    if (pidfd >= 0) close((int)pidfd);
    if (fd < 0) {
      errno = first == ENXIO ? errno : first;
      return -1;
    }
  }
  static char line[4096];
  memset(line, 'x', sizeof line - 1);
  line[sizeof line - 1] = '\n';
  long long total = 0;
  while (total < want) {
    size_t n =
        (size_t)(want - total < (long long)sizeof line ? want - total : (long long)sizeof line);
    ssize_t w = write(fd, line, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      errno = e;
      return -(total + 2);
    }
    total += w;
  }
  close(fd);
  return total;
}

static void probe_console(const struct probe_options* o) {
  probe_section_begin("console_flood");
  probe_bool("requested", o->console_bytes > 0);
  if (o->console_bytes <= 0) {
    probe_null("written_bytes");
    probe_null("errno");
  } else {
    long long want = o->console_bytes;
    struct probe_child_result r =
        probe_in_child(probe_console_child, &want, PROBE_MEMORY_TIMEOUT_S);
    if (r.reported && r.ret == -1) {
      probe_int("written_bytes", 0);
      probe_str("errno", probe_errno_name(r.err));
    } else if (r.reported) {
      probe_int("written_bytes", r.ret < 0 ? -r.ret - 2 : r.ret);
      probe_str("errno", r.ret < 0 ? probe_errno_name(r.err) : NULL);
    } else {
      probe_null("written_bytes");
      probe_null("errno");
      probe_error("flood attempt: %s", r.signaled ? probe_signal_name(r.sig) : "no result");
    }
  }
  probe_section_end();
}

/* ------------------------------------------------------------------------------------------ */

static void probe_usage(const char* msg) {
  fprintf(stderr,
          "droidway-probe: %s\n"
          "usage: droidway-probe [--host-pid N] [--host-tcp-port N] [--host-abstract NAME]\n"
          "         [--host-ipc-key K] [--syscall NAME]... [--masked PATH]...\n"
          "         [--readonly PATH]... [--memory-test LIMIT_BYTES] [--pids-test MAX]\n"
          "         [--scratch DIR] [--escapes] [--fill-dir DIR --fill-max BYTES]\n"
          "         [--console-flood BYTES]\n",
          msg);
}

static int probe_push(const char** list, int* n, const char* value, const char* what) {
  if (*n >= PROBE_MAX_LIST) {
    char msg[128];
    snprintf(msg, sizeof msg, "too many %s values (at most %d)", what, PROBE_MAX_LIST);
    probe_usage(msg);
    return -1;
  }
  if (value[0] == '\0' || strlen(value) >= PATH_MAX) {
    char msg[128];
    snprintf(msg, sizeof msg, "%s value is empty or too long", what);
    probe_usage(msg);
    return -1;
  }
  list[(*n)++] = value;
  return 0;
}

static int probe_parse_args(int argc, char** argv, struct probe_options* o) {
  enum {
    O_HOST_PID = 256,
    O_TCP,
    O_ABSTRACT,
    O_IPC,
    O_SYSCALL,
    O_MASKED,
    O_READONLY,
    O_MEMORY,
    O_PIDS,
    O_SCRATCH,
    O_ESCAPES,
    O_FILL_DIR,
    O_FILL_MAX,
    O_CONSOLE,
    O_HELP
  };
  static const struct option longopts[] = {
      {"host-pid", required_argument, NULL, O_HOST_PID},
      {"host-tcp-port", required_argument, NULL, O_TCP},
      {"host-abstract", required_argument, NULL, O_ABSTRACT},
      {"host-ipc-key", required_argument, NULL, O_IPC},
      {"syscall", required_argument, NULL, O_SYSCALL},
      {"masked", required_argument, NULL, O_MASKED},
      {"readonly", required_argument, NULL, O_READONLY},
      {"memory-test", required_argument, NULL, O_MEMORY},
      {"pids-test", required_argument, NULL, O_PIDS},
      {"scratch", required_argument, NULL, O_SCRATCH},
      {"escapes", no_argument, NULL, O_ESCAPES},
      {"fill-dir", required_argument, NULL, O_FILL_DIR},
      {"fill-max", required_argument, NULL, O_FILL_MAX},
      {"console-flood", required_argument, NULL, O_CONSOLE},
      {"help", no_argument, NULL, O_HELP},
      {NULL, 0, NULL, 0},
  };
  memset(o, 0, sizeof *o);
  o->scratch = "/tmp";
  opterr = 0;
  int c;
  int index = 0;
  while ((c = getopt_long(argc, argv, "", longopts, &index)) != -1) {
    switch (c) {
      case O_HOST_PID:
        if (probe_parse_ll(optarg, 1, INT_MAX, &o->host_pid) < 0) goto bad;
        break;
      case O_TCP:
        if (probe_parse_ll(optarg, 1, 65535, &o->host_tcp_port) < 0) goto bad;
        break;
      case O_ABSTRACT:
        /* The name must fit sun_path after the leading NUL. */
        if (optarg[0] == '\0' || strlen(optarg) > sizeof(((struct sockaddr_un*)0)->sun_path) - 1)
          goto bad;
        o->host_abstract = optarg;
        break;
      case O_IPC:
        /* Key 0 is IPC_PRIVATE: a lookup with it would create a new object. */
        if (probe_parse_ll(optarg, INT_MIN, UINT_MAX, &o->host_ipc_key) < 0 || o->host_ipc_key == 0)
          goto bad;
        o->has_ipc_key = 1;
        break;
      case O_SYSCALL:
        if (probe_push(o->syscalls, &o->n_syscalls, optarg, "--syscall") < 0) return -1;
        break;
      case O_MASKED:
        if (probe_push(o->masked, &o->n_masked, optarg, "--masked") < 0) return -1;
        break;
      case O_READONLY:
        if (probe_push(o->readonly, &o->n_readonly, optarg, "--readonly") < 0) return -1;
        break;
      case O_MEMORY:
        if (probe_parse_ll(optarg, 1LL << 20, 1LL << 36, &o->memory_limit) < 0) goto bad;
        break;
      case O_PIDS:
        if (probe_parse_ll(optarg, 1, 100000, &o->pids_max) < 0) goto bad;
        break;
      case O_SCRATCH:
        if (optarg[0] != '/' || strlen(optarg) > PATH_MAX / 2) goto bad;
        o->scratch = optarg;
        break;
      case O_ESCAPES:
        o->escapes = 1;
        break;
      case O_FILL_DIR:
        if (optarg[0] != '/' || strlen(optarg) > PATH_MAX / 2) goto bad;
        o->fill_dir = optarg;
        break;
      case O_FILL_MAX:
        if (probe_parse_ll(optarg, 1LL << 20, 1LL << 40, &o->fill_max) < 0) goto bad;
        break;
      case O_CONSOLE:
        if (probe_parse_ll(optarg, 1, 1LL << 30, &o->console_bytes) < 0) goto bad;
        break;
      case O_HELP:
        probe_usage("help");
        return -1;
      default:
        probe_usage("unknown option or missing value");
        return -1;
    }
  }
  if (optind != argc) {
    probe_usage("unexpected positional argument");
    return -1;
  }
  if ((o->fill_dir == NULL) != (o->fill_max == 0)) {
    probe_usage("--fill-dir and --fill-max go together");
    return -1;
  }
  return 0;
bad : {
  char msg[128];
  snprintf(msg, sizeof msg, "invalid value for --%s: '%.40s'", longopts[index].name, optarg);
  probe_usage(msg);
  return -1;
}
}

int main(int argc, char** argv) {
  struct probe_options o;
  if (probe_parse_args(argc, argv, &o) < 0) return 2;

  /* A closed stdout must not kill the probe mid-test (children still need reaping). */
  signal(SIGPIPE, SIG_IGN);

  probe_obj(NULL);
  probe_str("format", PROBE_FORMAT);
  probe_pid(&o);
  probe_namespaces();
  probe_capabilities();
  probe_status();
  probe_syscall_attempts(&o);
  probe_masked_paths(&o);
  probe_readonly_paths(&o);
  probe_debugfs(&o);
  probe_mknod(&o);
  probe_devices();
  probe_network();
  probe_host_sockets(&o);
  probe_ipc(&o);
  probe_hostname();
  probe_cwd();
  probe_init_fds();
  probe_pids_test(&o);
  probe_memory_test(&o);
  probe_debug();
  probe_escapes(&o);
  probe_fill(&o);
  probe_console(&o);
  probe_obj_end();
  probe_json_raw("\n", 1);

  if (out.failed) {
    fputs("droidway-probe: out of memory while building the report\n", stderr);
    return 1;
  }
  size_t off = 0;
  while (off < out.len) {
    ssize_t n = write(STDOUT_FILENO, out.data + off, out.len - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    off += (size_t)n;
  }
  free(out.data);
  return 0;
}
