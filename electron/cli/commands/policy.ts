/**
 * `droidway policy …`: the isolation policy from the command line.
 * - `policy show [--preset NAME] [--json]`: what a preset allows, in words (or the document).
 * - `policy check FILE [--json]`: validates a policy file, including its shared folders against
 *   this host and user; exits 1 listing every refused field.
 * - `policy compile FILE --out DIR [--json]`: writes the LXC config, seccomp profile, bridge
 *   settings and probe expectations the policy compiles to on this host.
 * - `policy verify [--against strict|android|FILE] [--instance NAME] [--json]`: runs the
 *   isolation probe inside the running session and looks at the container from the host, then
 *   prints each check (expected, seen, pass) against the session's own policy, or against a
 *   reference policy compiled for this host and instance (so a weakened policy cannot verify
 *   clean against itself); exits 1 when any check fails or the session cannot be verified, 2 on
 *   a usage error (an unknown preset, an unreadable or invalid reference file).
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  apparmorEnabled,
  detectCgroupSupport,
  type CgroupSupport,
} from '../../core/policy/cgroup-host.js';
import { bridgeLimitLines } from '../../core/policy/bridge-limits.js';
import { DEVICE_CLASSES } from '../../core/policy/devices.js';
import { formatIssues, type PolicyIssue } from '../../core/policy/policy-errors.js';
import { compilePolicy, type CompiledPolicy } from '../../core/policy/policy-compile.js';
import { ID_RANGE_SLOTS, idRangeOfSlot } from '../../core/runtime/id-ranges.js';
import type { ValidatedPolicy } from '../../core/policy/policy-document.js';
import { MAX_POLICY_TEXT_LENGTH, parsePolicyText } from '../../core/policy/policy-validate.js';
import { isPresetName, loadPreset, PRESET_NAMES } from '../../core/policy/presets.js';
import { checkSharedFolders, type SharedFolderFs } from '../../core/policy/shared-folders.js';
import { renderReportTable, reportToJson } from '../../core/inspect/report-format.js';
import type { SessionVerification } from '../../core/session/verify.js';
import { refuse } from '../cli-errors.js';
import { CliExit, EXIT_FAILURE, EXIT_NEGATIVE, outputOf } from '../cli-io.js';

/** What the commands touch on the host; tests pass fakes. */
export interface PolicyCommandDeps {
  /** The user shared folders must belong to. */
  uid: () => number;
  cgroupSupport: () => CgroupSupport;
  apparmorEnabled: () => boolean;
  /** File system for the shared-folder checks; default the real one. */
  fs?: SharedFolderFs;
}

const realDeps: PolicyCommandDeps = {
  uid: () => process.getuid?.() ?? 0,
  cgroupSupport: () => detectCgroupSupport(),
  apparmorEnabled: () => apparmorEnabled(),
};

/** Default preset of `policy show`. */
const DEFAULT_PRESET = 'strict';

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && v % 1024 === 0 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v} ${units[u]}`;
}

/** A policy in words, section by section, for `policy show`. */
export function formatPolicy(p: ValidatedPolicy): string {
  const ns = p.namespaces;
  const l = p.limits;
  const private_ = (['pid', 'mount', 'ipc', 'uts', 'net', 'cgroup'] as const).filter((n) => ns[n]);
  const shared = (['ipc', 'cgroup'] as const).filter((n) => !ns[n]);
  const denied = p.seccomp.rules.filter((r) => r.action !== 'allow');
  const out = [
    `Policy ${p.name} (version ${p.version})`,
    '',
    p.description,
    '',
    `Hostname:        ${p.hostname}`,
    `Namespaces:      private ${private_.join(', ')}${shared.length > 0 ? `; shared with the host: ${shared.join(', ')}` : ''}${ns.user !== undefined ? '; user namespace with id maps' : '; no user namespace (privileged container)'}`,
    `Capabilities:    ${p.capabilities.length > 0 ? p.capabilities.join(' ') : 'none'}`,
    `no_new_privs:    ${yesNo(p.noNewPrivs)}`,
    `Seccomp:         default ${p.seccomp.defaultAction}; ${denied.length} denied: ${denied
      .map((r) => `${r.syscall}${(r.args ?? []).length > 0 ? '(filtered)' : ''}`)
      .join(' ')}`,
    `Memory:          ${l.memoryMax !== undefined ? bytes(l.memoryMax) : 'unlimited'}${l.swapMax !== undefined ? `, swap ${bytes(l.swapMax)}` : ''}`,
    `CPU:             ${l.cpuQuota !== undefined && l.cpuPeriod !== undefined ? `${(l.cpuQuota / l.cpuPeriod).toFixed(2)} CPU` : 'unlimited'}${l.cpuWeight !== undefined ? `, weight ${l.cpuWeight}` : ''}`,
    `Tasks:           ${l.pidsMax ?? 'unlimited'}`,
    `I/O weight:      ${l.ioWeight ?? 'default'}`,
    `Mounted by LXC:  proc ${p.mountAuto.proc}, sys ${p.mountAuto.sys}, cgroup ${p.mountAuto.cgroup}`,
    `Network:         ${p.network === 'none' ? 'none (loopback only)' : 'NAT through a host bridge'}`,
    `AppArmor:        ${p.lsm.apparmor.mode === 'unconfined' ? 'unconfined (opted in)' : `${p.lsm.apparmor.profile} (${p.lsm.apparmor.mode})`}`,
    'Devices:',
    ...p.devices.map((d) => `  ${d.padEnd(11)} ${DEVICE_CLASSES.get(d)?.explanation ?? ''}`),
    `Masked paths:    ${p.maskedPaths.map((m) => m.path).join(' ') || 'none'}`,
    `Read-only paths: ${p.readOnlyPaths.join(' ') || 'none'}`,
    `Shared folders:  ${p.sharedFolders.map((f) => `${f.host} → ${f.guest} (${f.mode})`).join(', ') || 'none'}`,
    `Display bridge:  globals ${p.bridge.globals.join(' ')}`,
    ...bridgeLimitLines(p.bridge.limits).map((line) => `                 ${line}`),
    '',
  ];
  return out.join('\n');
}

/** `defaulted`: the fields an older document lacked and got their defaults for (see `check`). */
type Loaded =
  { ok: true; policy: ValidatedPolicy; defaulted: string[] } | { ok: false; issues: PolicyIssue[] };

/** Reads, parses and validates a policy file, then checks its shared folders on this host. */
async function loadPolicyFile(file: string, deps: PolicyCommandDeps): Promise<Loaded> {
  let text: string;
  try {
    const buf = await readFile(file);
    if (buf.length > MAX_POLICY_TEXT_LENGTH) {
      return {
        ok: false,
        issues: [{ path: '', message: `is larger than ${MAX_POLICY_TEXT_LENGTH} bytes` }],
      };
    }
    text = buf.toString('utf8');
  } catch (e) {
    return {
      ok: false,
      issues: [
        { path: '', message: `cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'})` },
      ],
    };
  }
  const parsed = parsePolicyText(text);
  if (!parsed.ok) return parsed;
  const issues = await checkSharedFolders(parsed.policy.sharedFolders, {
    uid: deps.uid(),
    fs: deps.fs,
  });
  if (issues.length > 0) return { ok: false, issues };
  return parsed;
}

function refuseFile(command: Command, file: string, issues: PolicyIssue[], json: boolean): never {
  const { out, err } = outputOf(command);
  if (json) out(`${JSON.stringify({ ok: false, file, issues }, null, 2)}\n`);
  else err(`${file}: policy refused\n${formatIssues(issues).replace(/^/gm, '  ')}\n`);
  throw new CliExit(EXIT_NEGATIVE);
}

/** Writes `files` into `dir` through temporary names, so a failure leaves no half-written file. */
async function writeOutputs(dir: string, files: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const temps: string[] = [];
  try {
    for (const [name, content] of Object.entries(files)) {
      const tmp = join(dir, `.${name}.tmp-${process.pid}`);
      temps.push(tmp);
      await writeFile(tmp, content, { mode: 0o644, flag: 'wx' });
    }
    for (const name of Object.keys(files))
      await rename(join(dir, `.${name}.tmp-${process.pid}`), join(dir, name));
  } finally {
    await Promise.all(temps.map((t) => rm(t, { force: true })));
  }
}

/** Names of the files `policy compile` writes into `--out`. */
export const COMPILE_OUTPUT_FILES = {
  config: 'config',
  seccomp: 'seccomp.profile',
  bridge: 'bridge.json',
  expectations: 'expectations.json',
  notes: 'notes.json',
} as const;

/** Adds the `policy` command group to `program`. `deps` defaults to this host. */
export function register(program: Command, deps: PolicyCommandDeps = realDeps): void {
  const policy = program
    .command('policy')
    .description('show, check and compile isolation policies');

  policy
    .command('show')
    .description('describe a preset: what it allows and what it costs')
    .option('--preset <name>', `preset to show (${PRESET_NAMES.join(', ')})`, DEFAULT_PRESET)
    .option('--json', 'print the policy document')
    .action((options: { preset: string; json?: boolean }, command: Command) => {
      const { out } = outputOf(command);
      let p: ValidatedPolicy;
      try {
        p = loadPreset(options.preset);
      } catch (e) {
        refuse(command, e);
      }
      out(options.json === true ? `${JSON.stringify(p, null, 2)}\n` : formatPolicy(p));
    });

  policy
    .command('check')
    .description('validate a policy file; exits 1 listing every refused field')
    .argument('<file>', 'policy JSON file')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, options: { json?: boolean }, command: Command) => {
      const loaded = await loadPolicyFile(file, deps);
      if (!loaded.ok) refuseFile(command, file, loaded.issues, options.json === true);
      const { out } = outputOf(command);
      const { defaulted } = loaded;
      out(
        options.json === true
          ? `${JSON.stringify({ ok: true, file, name: loaded.policy.name, issues: [], defaulted }, null, 2)}\n`
          : `${file}: valid policy "${loaded.policy.name}"\n${
              defaulted.length > 0
                ? `  written before these fields existed; they take their defaults (strict's bridge limits, the clipboard off): ${defaulted.join(' ')}\n`
                : ''
            }`,
      );
    });

  policy
    .command('compile')
    .description(
      'compile a policy for this host into an LXC config, seccomp profile, bridge settings and probe expectations',
    )
    .argument('<file>', 'policy JSON file')
    .requiredOption('--out <dir>', 'folder to write the outputs into')
    .option('--name <name>', 'container name', 'droidway')
    .option('--rootfs <path>', 'guest root directory', '/var/lib/droidway/rootfs')
    .option(
      '--id-slot <n>',
      "which of Droidway's subordinate id ranges the guest's ids map to (a session start allocates one per instance)",
      '0',
    )
    .option('--json', 'print the notes and written files as JSON')
    .action(
      async (
        file: string,
        options: { out: string; name: string; rootfs: string; idSlot: string; json?: boolean },
        command: Command,
      ) => {
        const loaded = await loadPolicyFile(file, deps);
        if (!loaded.ok) refuseFile(command, file, loaded.issues, options.json === true);
        const dir = resolve(options.out);
        const cgroup = deps.cgroupSupport();
        let compiled: CompiledPolicy;
        try {
          const slot = Number(options.idSlot);
          if (!/^[0-9]{1,4}$/.test(options.idSlot) || slot >= ID_RANGE_SLOTS)
            throw new Error(`--id-slot must be a number from 0 to ${ID_RANGE_SLOTS - 1}`);
          compiled = compilePolicy(loaded.policy, {
            idRange: idRangeOfSlot(slot),
            name: options.name,
            rootfsPath: resolve(options.rootfs),
            seccompProfilePath: join(dir, COMPILE_OUTPUT_FILES.seccomp),
            logFile: join(dir, 'lxc.log'),
            cgroupVersion: cgroup.version,
            unsupportedLimits: cgroup.unsupportedLimits,
            apparmorAvailable: deps.apparmorEnabled(),
          });
        } catch (e) {
          const issues = (e as { issues?: PolicyIssue[] }).issues ?? [
            { path: '', message: (e as Error).message },
          ];
          const { err } = outputOf(command);
          err(`cannot compile: ${formatIssues(issues)}\n`);
          throw new CliExit(EXIT_FAILURE);
        }
        compiled.notes.push(
          ...loaded.defaulted.map((field) => ({
            field,
            message:
              'not in this document (written before the field existed): took its default (strict bridge limits, clipboard off)',
          })),
        );
        await writeOutputs(dir, {
          [COMPILE_OUTPUT_FILES.config]: compiled.lxcConfig,
          [COMPILE_OUTPUT_FILES.seccomp]: compiled.seccompProfile,
          [COMPILE_OUTPUT_FILES.bridge]: `${JSON.stringify(compiled.bridge, null, 2)}\n`,
          [COMPILE_OUTPUT_FILES.expectations]: `${JSON.stringify(compiled.expectations, null, 2)}\n`,
          [COMPILE_OUTPUT_FILES.notes]: `${JSON.stringify(compiled.notes, null, 2)}\n`,
        });
        const { out } = outputOf(command);
        const written = Object.values(COMPILE_OUTPUT_FILES).map((f) => join(dir, f));
        if (options.json === true) {
          out(
            `${JSON.stringify({ ok: true, file, out: dir, files: written, notes: compiled.notes }, null, 2)}\n`,
          );
          return;
        }
        out(`${file}: compiled policy "${loaded.policy.name}" into ${dir}\n`);
        for (const f of written) out(`  ${f}\n`);
        for (const n of compiled.notes) out(`  note: ${n.field || '(policy)'}: ${n.message}\n`);
      },
    );

  policy
    .command('verify')
    .description(
      'run the isolation probe inside the running session and compare with its policy; exits 1 when a check fails',
    )
    .option('--instance <name>', 'instance name', 'default')
    .option(
      '--against <preset|file>',
      `check against this policy instead of the session's own (${PRESET_NAMES.join(', ')}, or a policy file)`,
    )
    .option('--json', 'print the report as JSON')
    .action(
      async (options: { instance: string; against?: string; json?: boolean }, command: Command) => {
        const { out, err } = outputOf(command);
        let against: ValidatedPolicy | undefined;
        if (options.against !== undefined) {
          const reference = await loadReference(options.against, deps);
          if (!reference.ok) {
            err(
              `droidway: --against ${options.against}: policy refused\n${formatIssues(reference.issues).replace(/^/gm, '  ')}\n`,
            );
            throw new CliExit(EXIT_FAILURE);
          }
          against = reference.policy;
        }
        let result: SessionVerification;
        try {
          // Loaded here: only `policy verify` needs the session and inspection code.
          const { verifySession } = await import('../../core/session/verify.js');
          result = await verifySession({
            instance: options.instance,
            ...(against !== undefined ? { against } : {}),
          });
        } catch (e) {
          refuse(command, e, { json: options.json === true, instance: options.instance });
        }
        if (options.json === true) {
          out(
            reportToJson(result.report, {
              policy: result.policyName,
              sessionPolicy: result.sessionPolicyName,
            }),
          );
        } else {
          out(
            against === undefined
              ? `Isolation of instance ${options.instance} under policy "${result.policyName}"\n\n`
              : `Isolation of instance ${options.instance} (policy "${result.sessionPolicyName}") checked against "${result.policyName}"\n\n`,
          );
          if (result.report.hostEquivalent)
            out(
              "HOST-EQUIVALENT: the guest runs without a user namespace of its own; its root is the host's root\n\n",
            );
          out(renderReportTable(result.report));
          for (const n of result.notes) out(`note: ${n.field || '(policy)'}: ${n.message}\n`);
        }
        if (!result.report.pass) throw new CliExit(EXIT_NEGATIVE);
      },
    );
}

/** `--against`: a preset name, else a policy file (validated like `policy check`). */
async function loadReference(value: string, deps: PolicyCommandDeps): Promise<Loaded> {
  if (isPresetName(value)) {
    try {
      return { ok: true, policy: loadPreset(value), defaulted: [] };
    } catch (e) {
      return {
        ok: false,
        issues: (e as { issues?: PolicyIssue[] }).issues ?? [
          { path: '', message: (e as Error).message },
        ],
      };
    }
  }
  const loaded = await loadPolicyFile(value, deps);
  if (!loaded.ok && !existsSync(value))
    loaded.issues.push({
      path: '',
      message: `is neither a preset (${PRESET_NAMES.join(', ')}) nor a policy file`,
    });
  return loaded;
}
