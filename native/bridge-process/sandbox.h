// What confines the bridge process once its sockets exist: a host connector in a child process
// (so the bridge itself never needs socket() or connect(), nor the right to open the host's
// socket), the drop from root to the configured uid/gid, the address-space limit, no_new_privs
// and a seccomp allow-list applied to every thread.
#ifndef DROIDWAY_BRIDGE_PROCESS_SANDBOX_H_
#define DROIDWAY_BRIDGE_PROCESS_SANDBOX_H_

#include <sys/types.h>

#include <cstdint>
#include <mutex>
#include <string>

#include "../src/native_error.h"
#include "../src/unique_fd.h"

namespace droidway {
namespace bridge_process {

/**
 * A child process, forked before any thread exists, that connects to the host compositor's
 * socket on request and passes the connected socket back (SCM_RIGHTS). It reads one byte per
 * request and nothing else, under no_new_privs and a seccomp filter that allows only that loop;
 * it ends when the bridge process closes its end.
 */
class HostConnector {
 public:
  /** Forks the child for `host_socket_path`; call while the process has one thread. */
  static NativeStatus Start(const std::string& host_socket_path, HostConnector* out);
  HostConnector() = default;
  ~HostConnector();
  HostConnector(const HostConnector&) = delete;
  HostConnector& operator=(const HostConnector&) = delete;

  /** A new connected socket to the host compositor; any thread. */
  NativeStatus Connect(UniqueFd* out);

 private:
  std::mutex mutex_;
  UniqueFd channel_;
  pid_t child_ = -1;
  std::string host_socket_path_;
};

/** Everything the process gives up after setup, in order. */
struct Confinement {
  /** When the process runs as root: the ids to become (both or neither). */
  int64_t uid = -1;
  int64_t gid = -1;
  uint64_t address_space_bytes = 0;
};

/**
 * Drops to `confinement.uid/gid` (setgroups, setgid, setuid; checked to be irreversible), sets
 * RLIMIT_AS, PR_SET_NO_NEW_PRIVS, and installs the seccomp allow-list on every thread
 * (SECCOMP_FILTER_FLAG_TSYNC). A process running as root without ids to become is refused.
 */
NativeStatus Confine(const Confinement& confinement);

}  // namespace bridge_process
}  // namespace droidway

#endif  // DROIDWAY_BRIDGE_PROCESS_SANDBOX_H_
