/**
 * What the container runtime itself needs: the LXC tools (and a new enough LXC), a way to run
 * privileged steps, a static busybox for the demo guest, and Android-style shared memory
 * (`/dev/ashmem`, or a memfd that seals read-only).
 */
import type { DoctorCheck } from '../../shared/doctor.js';
import { ParseError } from '../host/parse-error.js';
import { failed, passed, verdict, type CheckIdentity } from '../host/check-result.js';
import { parseElfHeader } from '../host/elf-header.js';
import type { ExecResult, HostProbe } from '../host/host-probe.js';
import { findExecutable } from '../host/host-lookup.js';

/** The LXC tools the runtime drives. */
export const LXC_TOOLS = [
  'lxc-start',
  'lxc-stop',
  'lxc-info',
  'lxc-attach',
  'lxc-freeze',
  'lxc-unfreeze',
];
/** Oldest LXC the runtime's configuration keys work with (`lxc.cgroup2.*`, `lxc.seccomp.profile`). */
export const MIN_LXC_VERSION = { major: 4, minor: 0 };
const LXC_VERSION_TIMEOUT_MS = 5000;

/**
 * LXC tools (`demo`, every one of `LXC_TOOLS` on PATH or in an sbin directory) and LXC version
 * (`demo`, `lxc-start --version` at least `MIN_LXC_VERSION`).
 */
export async function checkLxc(host: HostProbe): Promise<DoctorCheck[]> {
  const toolsId: CheckIdentity = { id: 'lxc.tools', title: 'LXC tools', impact: 'demo' };
  const install = 'apt-get install lxc';
  const found = new Map<string, string | null>();
  for (const tool of LXC_TOOLS) found.set(tool, await findExecutable(host, tool));
  const missing = LXC_TOOLS.filter((t) => found.get(t) === null);
  const dirs = new Set(
    [...found.values()]
      .filter((p): p is string => p !== null)
      .map((p) => p.slice(0, p.lastIndexOf('/'))),
  );
  const toolsCheck =
    missing.length === 0
      ? passed(toolsId, `${LXC_TOOLS.join(', ')} in ${[...dirs].join(', ')}`)
      : failed(toolsId, `missing ${missing.join(', ')}`, install);

  const start = found.get('lxc-start') ?? null;
  return [toolsCheck, await checkLxcVersion(host, start, install)];
}

async function checkLxcVersion(
  host: HostProbe,
  start: string | null,
  install: string,
): Promise<DoctorCheck> {
  const identity: CheckIdentity = { id: 'lxc.version', title: 'LXC version', impact: 'demo' };
  if (start === null) return failed(identity, 'no lxc-start to ask', install);
  let result: ExecResult;
  try {
    result = await host.exec([start, '--version'], { timeoutMs: LXC_VERSION_TIMEOUT_MS });
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return failed(identity, `cannot run ${start}: ${message}`, install);
  }
  if (result.timedOut) {
    return failed(
      identity,
      `${start} --version did not answer in ${LXC_VERSION_TIMEOUT_MS} ms`,
      install,
    );
  }
  if (result.exitCode !== 0) {
    return failed(
      identity,
      `${start} --version exited with ${result.exitCode ?? result.signal}`,
      install,
    );
  }
  const output = result.stdout.trim();
  const match = /^(\d{1,4})\.(\d{1,4})(?:\.(\d{1,4}))?/.exec(output);
  if (match === null) {
    return failed(identity, `unrecognised version ${JSON.stringify(output.slice(0, 60))}`, install);
  }
  const major = Number(match[1]);
  const minor = Number(match[2]);
  const { major: minMajor, minor: minMinor } = MIN_LXC_VERSION;
  return verdict(
    identity,
    major > minMajor || (major === minMajor && minor >= minMinor),
    `lxc ${match[0]}`,
    `LXC ${minMajor}.${minMinor} or newer is needed: upgrade lxc (Debian 12 ships 5.0)`,
  );
}

/** Where setup and the packages install the privileged helper (`privileged-client.ts`). */
const HELPER_PATHS = [
  '/usr/local/libexec/droidway-helper',
  '/usr/libexec/droidway-helper',
  '/opt/Droidway/resources/droidway-helper',
];
/** The helper's polkit action file. */
const HELPER_ACTION_FILE = '/usr/share/polkit-1/actions/org.droidway.helper.policy';
/** The system bus polkitd is reached on. */
const SYSTEM_BUS = '/run/dbus/system_bus_socket';

/**
 * Privileges (`demo`): can this user start a session now? Root can. Anyone else needs pkexec, the
 * installed helper, its polkit action naming that helper, a running system bus, and polkit's
 * answer for this user (`pkcheck`: allowed, or allowed after an administrator's password).
 * Each missing piece is named with exactly what to do.
 */
export async function checkPrivileges(host: HostProbe): Promise<DoctorCheck> {
  const identity: CheckIdentity = { id: 'privileges', title: 'Privileges', impact: 'demo' };
  if (host.uid === 0) return passed(identity, 'running as root (uid 0)');
  const who = `uid ${host.uid}`;
  const pkexec = await findExecutable(host, 'pkexec');
  if (pkexec === null)
    return failed(
      identity,
      `${who}; no pkexec`,
      'install polkit (sudo apt-get install pkexec polkitd) so Droidway can ask for authorization, or run as root',
    );
  let helper: string | null = null;
  for (const p of HELPER_PATHS) if (await host.exists(p)) helper = helper ?? p;
  if (helper === null)
    return failed(
      identity,
      `${who}; pkexec at ${pkexec}, but Droidway's privileged helper is not installed`,
      'install it: sudo bash build/scripts/setup.sh (or install the Droidway package)',
    );
  const action = await host.readFile(HELPER_ACTION_FILE, 64 * 1024).catch(() => null);
  if (action === null || !action.toString('utf8').includes(`>${helper}<`))
    return failed(
      identity,
      `${who}; helper at ${helper}, but ${action === null ? 'no polkit action org.droidway.helper' : `the polkit action org.droidway.helper names another program`}`,
      'reinstall it: sudo bash build/scripts/setup.sh (or reinstall the Droidway package)',
    );
  if (!(await host.exists(SYSTEM_BUS)))
    return failed(
      identity,
      `${who}; helper at ${helper}, but the system bus (${SYSTEM_BUS}) is not running, so polkit cannot answer`,
      'start D-Bus (sudo systemctl start dbus), which starts polkitd when asked',
    );
  const pkcheck = await findExecutable(host, 'pkcheck');
  if (pkcheck === null)
    return passed(
      identity,
      `${who}; helper at ${helper}, polkit action installed (pkcheck missing: not asked)`,
    );
  let code: number | null = null;
  try {
    const r = await host.exec(
      [pkcheck, '--action-id', 'org.droidway.helper', '--process', String(process.pid)],
      { timeoutMs: 10_000 },
    );
    code = r.exitCode;
  } catch {
    code = null;
  }
  if (code === 0)
    return passed(identity, `${who}; polkit allows org.droidway.helper for this user`);
  if (code === 2)
    return passed(
      identity,
      `${who}; polkit allows org.droidway.helper after authentication (you will be asked for an administrator's password)`,
    );
  return failed(
    identity,
    `${who}; polkit does not allow org.droidway.helper for this user${code === null ? ' (pkcheck could not run)' : ''}`,
    'ask an administrator to allow the action org.droidway.helper (a polkit rule in /etc/polkit-1/rules.d/), or use an active local login session',
  );
}

/** Where the demo guest's busybox comes from. */
export const BUSYBOX_PATH = '/bin/busybox';
/** The ELF and program headers of any real executable fit in this. */
const ELF_HEAD_BYTES = 64 * 1024;

/**
 * Static busybox (`demo`): `/bin/busybox` is an ELF executable without a `PT_INTERP` segment,
 * so it runs in the demo guest's rootfs, which has no dynamic loader or libc.
 */
export async function checkBusybox(host: HostProbe): Promise<DoctorCheck> {
  const identity: CheckIdentity = { id: 'busybox', title: 'Static busybox', impact: 'demo' };
  const fix = 'apt-get install busybox-static';
  let head: Buffer;
  try {
    head = await host.readHead(BUSYBOX_PATH, ELF_HEAD_BYTES);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return failed(
      identity,
      code === 'ENOENT' ? `no ${BUSYBOX_PATH}` : `cannot read ${BUSYBOX_PATH}: ${String(code)}`,
      fix,
    );
  }
  try {
    const elf = parseElfHeader(head);
    const kind = `${elf.elfClass}-bit ELF ${elf.type === 'exec' ? 'executable' : elf.type === 'dyn' ? 'PIE' : 'file'}`;
    if (elf.type === 'other')
      return failed(identity, `${BUSYBOX_PATH} is a ${kind}, not an executable`, fix);
    if (elf.interpreter !== null) {
      return failed(
        identity,
        `${BUSYBOX_PATH} is dynamically linked (interpreter ${elf.interpreter})`,
        fix,
      );
    }
    return passed(identity, `${BUSYBOX_PATH}: statically linked ${kind}`);
  } catch (error) {
    if (error instanceof ParseError)
      return failed(identity, `${BUSYBOX_PATH}: ${error.message}`, fix);
    throw error;
  }
}

/**
 * Shared memory (`demo`): `/dev/ashmem`, or a memfd proven to work the way Android's ashmem
 * emulation needs, by creating one through the native module, sealing it read-only
 * (`F_SEAL_FUTURE_WRITE`) and reading its seals back.
 */
export async function checkSharedMemory(host: HostProbe): Promise<DoctorCheck> {
  const identity: CheckIdentity = {
    id: 'shm',
    title: 'Shared memory (ashmem / sealed memfd)',
    impact: 'demo',
  };
  const probe = await host.shmProbe();
  if (probe.native === 'missing') {
    return failed(identity, probe.message, 'build the native module: npm run build:native');
  }
  const device = probe.ashmemDevice ? '/dev/ashmem present' : 'no /dev/ashmem';
  const memfd = probe.memfd;
  if (memfd.ok) {
    const sealedReadOnly = ['grow', 'shrink', 'future-write'].every((s) => memfd.seals.includes(s));
    if (sealedReadOnly) {
      return passed(
        identity,
        `${device}; memfd sealed read-only (seals: ${memfd.seals.join(', ')})`,
      );
    }
    if (probe.ashmemDevice)
      return passed(identity, `${device}; memfd seals incomplete (${memfd.seals.join(', ')})`);
    return failed(
      identity,
      `${device}; memfd seals after sealing read-only: ${memfd.seals.join(', ') || 'none'}`,
      'use Linux 5.1 or newer (F_SEAL_FUTURE_WRITE), or a kernel with CONFIG_ASHMEM=y',
    );
  }
  const seen = `${device}; memfd ${memfd.step} failed: ${memfd.code} ${memfd.message}`;
  if (probe.ashmemDevice) return passed(identity, seen);
  return failed(
    identity,
    seen,
    memfd.step === 'seal-read-only' && memfd.code === 'EINVAL'
      ? 'use Linux 5.1 or newer: this kernel does not know F_SEAL_FUTURE_WRITE'
      : 'use a kernel with CONFIG_MEMFD_CREATE=y and CONFIG_SHMEM=y (Linux 5.1 or newer), or CONFIG_ASHMEM=y',
  );
}
