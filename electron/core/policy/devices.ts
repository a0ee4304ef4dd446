/**
 * The device classes a policy may allow, each with the device-cgroup rules it needs, the nodes it
 * puts in the guest's `/dev`, and a sentence a person can read before allowing it.
 *
 * Fixed classes have well-known numbers. Host classes (binder, ashmem, a DRI render node) have
 * numbers the host chooses at boot (binderfs, the misc minor of ashmem, the render minor), so the
 * runtime resolves them and passes them to the compiler (`CompileContext.hostDevices`).
 */

/** Names of the device classes, as written in a policy's `devices` list. */
export const DEVICE_CLASS_NAMES = [
  'null',
  'zero',
  'full',
  'random',
  'urandom',
  'tty',
  'ptmx',
  'fuse',
  'tun',
  'uinput',
  'binder',
  'ashmem',
  'dri-render',
] as const;

export type DeviceClassName = (typeof DEVICE_CLASS_NAMES)[number];

/** Device classes whose numbers the host decides; see `CompileContext.hostDevices`. */
export type HostDeviceClassName = 'binder' | 'ashmem' | 'dri-render';

/** One device-cgroup rule: character device `major:minor` (`'*'` = every minor). */
export interface DeviceRule {
  major: number;
  minor: number | '*';
}

export interface DeviceClass {
  name: DeviceClassName;
  /** What the guest gains, and what it costs, in one or two sentences. */
  explanation: string;
  /** Device-cgroup rules for a fixed class; empty for host classes (numbers come from the host). */
  rules: readonly DeviceRule[];
  /** Guest nodes of a fixed class: created by LXC (`autodev`) or bind-mounted from the same host path. */
  nodes: readonly string[];
  /** LXC's `autodev` creates these nodes itself; the others are bind-mounted from the host. */
  autodev: boolean;
  /** A guest cannot boot without it; a policy must allow it. */
  required: boolean;
  /** The numbers come from the host at compile time. */
  host: boolean;
}

export const DEVICE_CLASSES: ReadonlyMap<DeviceClassName, DeviceClass> = new Map(
  (
    [
      {
        name: 'null',
        explanation: '/dev/null (1:3): the empty sink every program expects.',
        rules: [{ major: 1, minor: 3 }],
        nodes: ['/dev/null'],
        autodev: true,
        required: true,
        host: false,
      },
      {
        name: 'zero',
        explanation: '/dev/zero (1:5): a source of zero bytes, used for anonymous mappings.',
        rules: [{ major: 1, minor: 5 }],
        nodes: ['/dev/zero'],
        autodev: true,
        required: true,
        host: false,
      },
      {
        name: 'full',
        explanation:
          '/dev/full (1:7): a device that is always full, used by tests of write errors.',
        rules: [{ major: 1, minor: 7 }],
        nodes: ['/dev/full'],
        autodev: true,
        required: false,
        host: false,
      },
      {
        name: 'random',
        explanation:
          '/dev/random (1:8): the kernel random generator (no access to its entropy pool controls).',
        rules: [{ major: 1, minor: 8 }],
        nodes: ['/dev/random'],
        autodev: true,
        required: true,
        host: false,
      },
      {
        name: 'urandom',
        explanation: '/dev/urandom (1:9): the non-blocking random generator.',
        rules: [{ major: 1, minor: 9 }],
        nodes: ['/dev/urandom'],
        autodev: true,
        required: true,
        host: false,
      },
      {
        name: 'tty',
        explanation:
          "/dev/tty (5:0): the process's own controlling terminal; no access to host terminals.",
        rules: [{ major: 5, minor: 0 }],
        nodes: ['/dev/tty'],
        autodev: true,
        required: true,
        host: false,
      },
      {
        name: 'ptmx',
        explanation:
          "/dev/ptmx (5:2) and /dev/pts/* (136:*): pseudo-terminals of the container's own devpts instance, needed by lxc-attach and shells.",
        rules: [
          { major: 5, minor: 2 },
          { major: 136, minor: '*' },
        ],
        nodes: ['/dev/ptmx', '/dev/pts/ptmx', '/dev/pts/*'],
        autodev: true,
        required: true,
        host: false,
      },
      {
        name: 'fuse',
        explanation:
          '/dev/fuse (10:229): lets the guest run FUSE file systems (Android uses it for shared storage); the kernel FUSE code becomes reachable from the guest.',
        rules: [{ major: 10, minor: 229 }],
        nodes: ['/dev/fuse'],
        autodev: false,
        required: false,
        host: false,
      },
      {
        name: 'tun',
        explanation:
          '/dev/net/tun (10:200): lets the guest create TUN/TAP interfaces inside its own network namespace (VPN apps); needs the net_admin capability to configure them.',
        rules: [{ major: 10, minor: 200 }],
        nodes: ['/dev/net/tun'],
        autodev: false,
        required: false,
        host: false,
      },
      {
        name: 'uinput',
        explanation:
          '/dev/uinput (10:223): lets the guest create input devices. They are host-wide: a guest could type into host windows. Allow only for input injection you trust.',
        rules: [{ major: 10, minor: 223 }],
        nodes: ['/dev/uinput'],
        autodev: false,
        required: false,
        host: false,
      },
      {
        name: 'binder',
        explanation:
          "Android's binder IPC: this instance's own binderfs nodes (binder, hwbinder, vndbinder), never the host's. Required by Android, not by the demo guest.",
        rules: [],
        nodes: [],
        autodev: false,
        required: false,
        host: true,
      },
      {
        name: 'ashmem',
        explanation:
          "/dev/ashmem, Android's shared memory, where the host kernel has it; otherwise Android falls back to memfd and nothing is exposed.",
        rules: [],
        nodes: [],
        autodev: false,
        required: false,
        host: true,
      },
      {
        name: 'dri-render',
        explanation:
          'One DRI render node (/dev/dri/renderD*): GPU rendering without display control (no modesetting). Exposes the GPU driver to the guest.',
        rules: [],
        nodes: [],
        autodev: false,
        required: false,
        host: true,
      },
    ] satisfies DeviceClass[]
  ).map((c) => [c.name, c]),
);
