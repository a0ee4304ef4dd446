/**
 * A minimal but real LXC config for runtime tests, standing in for the policy compiler's output
 * until the tests switch to it: private pid/mount/uts/ipc/net namespaces (LXC's defaults), no
 * network interface, proc and sys mounted by LXC (sys read-only), an autodev `/dev`, no ttys and
 * no console, a read-only rootfs. AppArmor is named only where the kernel has it: LXC refuses
 * a profile on a kernel without AppArmor.
 */
import { existsSync } from 'node:fs';

/** Inputs of `minimalLxcConfig`. */
export interface MinimalConfigOptions {
  /** Absolute rootfs path. */
  rootfs: string;
  /** `lxc.uts.name`; default `droidway-test`. */
  hostname?: string;
  /** `lxc.init.cmd`; default `/sbin/init` (the demo guest's). */
  init?: string;
}

/** Whether the running kernel has AppArmor enabled. */
export function appArmorEnabled(): boolean {
  return existsSync('/sys/module/apparmor/parameters/enabled');
}

/** The config text; see the module doc. */
export function minimalLxcConfig(options: MinimalConfigOptions): string {
  const lines = [
    '# Minimal Droidway test config (tests/integration/helpers/minimal-lxc-config.ts)',
    `lxc.uts.name = ${options.hostname ?? 'droidway-test'}`,
    `lxc.rootfs.path = dir:${options.rootfs}`,
    'lxc.rootfs.options = ro',
    `lxc.init.cmd = ${options.init ?? '/sbin/init'}`,
    'lxc.mount.auto = proc:mixed sys:ro cgroup:mixed',
    'lxc.autodev = 1',
    'lxc.net.0.type = empty',
    'lxc.tty.max = 0',
    'lxc.pty.max = 0',
    'lxc.console.path = none',
    'lxc.signal.halt = SIGPWR',
    'lxc.cap.drop = sys_module sys_time sys_rawio mac_admin mac_override',
  ];
  if (appArmorEnabled()) lines.push('lxc.apparmor.profile = unconfined');
  return lines.join('\n') + '\n';
}
