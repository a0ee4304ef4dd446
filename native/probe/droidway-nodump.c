/*
 * droidway-nodump: runs the guest's init so that no other guest process can debug it.
 *
 *   droidway-nodump PROGRAM [ARG]...
 *
 * Sets the real group id to NOGROUP while the effective, saved and file-system group ids stay
 * what they were, then executes PROGRAM. The kernel marks a process that executes a program
 * with differing real and effective ids as not dumpable (fs.suid_dumpable, 0 or 2, never 1),
 * and every process init forks and executes inherits the ids, so the whole tree stays that way.
 * A process that is not dumpable can be debugged only by a holder of CAP_SYS_PTRACE in its user
 * namespace: /proc/PID/mem, process_vm_readv/writev, pidfd_getfd and kcmp then fail for every
 * guest process without it, including ones with the same uid. Seccomp cannot stop the
 * /proc/PID/mem path (it cannot read a path), dropping CAP_SYS_PTRACE alone stops only
 * cross-uid reads, and Yama is absent from many hosts (this one included).
 *
 * Files are created with the effective group (unchanged); only the real group differs. A guest
 * process that resets all its group ids (setgid) is dumpable again after its next execve.
 * Exit status 126 when the ids cannot be set (the policy's promise would not hold: the guest is
 * not started), 127 when PROGRAM cannot be executed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/** The group every Linux system reserves for "nobody's" files (nogroup / AID_NOBODY). */
#define NODUMP_REAL_GID 65534

int main(int argc, char** argv) {
  if (argc < 2 || argv[1][0] != '/') {
    fputs("usage: droidway-nodump /ABSOLUTE/PROGRAM [ARG]...\n", stderr);
    return 126;
  }
  gid_t gid = getegid();
  if (gid == NODUMP_REAL_GID || setresgid(NODUMP_REAL_GID, gid, gid) < 0) {
    fprintf(stderr, "droidway-nodump: cannot set the real group id: %s\n",
            gid == NODUMP_REAL_GID ? "the effective group is already nogroup" : strerror(errno));
    return 126;
  }
  execv(argv[1], argv + 1);
  fprintf(stderr, "droidway-nodump: %s: %s\n", argv[1], strerror(errno));
  return 127;
}
