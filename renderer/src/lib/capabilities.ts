/**
 * Every Linux capability the policy editor offers, with what it lets a process do in one line
 * of plain words. The list is the core's (`LINUX_CAPABILITIES`); a unit test checks that each
 * has its line.
 */
import { LINUX_CAPABILITIES } from '../../../electron/core/policy/capabilities.js';

/** Capability name → what it allows, for a person. */
export const CAPABILITY_EXPLANATIONS: Readonly<Record<string, string>> = Object.freeze({
  chown: 'Give files to another user or group.',
  dac_override: 'Read, write and run any file, whatever its permissions say.',
  dac_read_search: 'Read any file and list any folder, whatever its permissions say.',
  fowner: 'Act as the owner of any file (change its mode, times, flags).',
  fsetid: 'Keep set-user-ID and set-group-ID bits when changing a file.',
  kill: 'Send signals to processes of other users.',
  setgid: 'Switch to any group.',
  setuid: 'Switch to any user.',
  setpcap: 'Hand capabilities on and drop them from the bounding set.',
  linux_immutable: 'Mark files immutable or append-only, and undo it.',
  net_bind_service: 'Listen on network ports below 1024.',
  net_broadcast: 'Send broadcast and multicast packets.',
  net_admin: 'Configure network interfaces, routes and firewall rules.',
  net_raw: 'Open raw sockets (forge packets, ping).',
  ipc_lock: 'Lock memory so it is never swapped out.',
  ipc_owner: 'Use any System V IPC object, whatever its permissions.',
  sys_module: 'Load and unload kernel modules: full control of the host kernel.',
  sys_rawio: 'Raw I/O on ports and devices (/dev/mem, ioperm).',
  sys_chroot: 'Change the root folder (chroot).',
  sys_ptrace: 'Trace and inspect any process (debuggers).',
  sys_pacct: 'Turn process accounting on and off.',
  sys_admin: 'Mount file systems and much more: close to full root.',
  sys_boot: 'Reboot the machine or load a new kernel.',
  sys_nice: 'Raise process priorities and change scheduling.',
  sys_resource: 'Exceed resource limits and quotas.',
  sys_time: 'Set the system clock.',
  sys_tty_config: 'Configure terminals (vhangup).',
  mknod: 'Create device nodes.',
  lease: 'Take leases on files the process does not own.',
  audit_write: 'Write records to the kernel audit log.',
  audit_control: 'Configure kernel auditing.',
  setfcap: 'Set file capabilities on programs.',
  mac_override: 'Bypass the mandatory access control (LSM) policy.',
  mac_admin: 'Change the mandatory access control (LSM) policy.',
  syslog: 'Read and clear the kernel log.',
  wake_alarm: 'Set alarms that wake the system from suspend.',
  block_suspend: 'Keep the system from suspending.',
  audit_read: 'Read the kernel audit log.',
  perfmon: 'Use performance monitoring (perf events).',
  bpf: 'Load BPF programs into the kernel.',
  checkpoint_restore: 'Checkpoint and restore processes (choose PIDs).',
});

/** The capabilities in the kernel's order. */
export const CAPABILITIES: readonly string[] = LINUX_CAPABILITIES;
