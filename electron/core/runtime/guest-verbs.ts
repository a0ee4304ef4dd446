/**
 * The closed set of commands an instance's owner may run in its guest through the session host
 * when the owner is not root: the package-manager and activity-manager verbs Droidway itself
 * uses, and the isolation probe. Root may run anything (it could run `lxc-attach` itself).
 *
 * Each verb is matched on its whole argv: fixed words, then typed arguments (package names,
 * component names, decimal sizes and session ids). Anything else is refused with the reason, so
 * a compromised or curious user-side process cannot use the root host as a general shell into
 * the container.
 */

/** Android's package-name grammar (as `apps/desktop-entry.ts` checks it), capped in length. */
const PACKAGE = /^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$|^android$/;
/** A component `pkg/.Activity` or `pkg/full.Class`. */
const COMPONENT = /^[A-Za-z][A-Za-z0-9_.]*\/\.?[A-Za-z_$][A-Za-z0-9_.$]*$/;
/** A decimal size or session id. */
const NUMBER = /^[0-9]{1,19}$/;
/** A split name for `install-write` (`base`, `split_config.arm64_v8a`, …). */
const SPLIT_NAME = /^[A-Za-z0-9_.-]{1,128}$/;

type Matcher = (arg: string) => boolean;
const word =
  (w: string): Matcher =>
  (a) =>
    a === w;
const pattern =
  (re: RegExp, max = 256): Matcher =>
  (a) =>
    a.length <= max && re.test(a);
const pkg = pattern(PACKAGE);
const num = pattern(NUMBER);

/** Each allowed verb: its argv, word by word (a trailing `optional` list may follow). */
const VERBS: ReadonlyArray<{ name: string; args: Matcher[]; optional?: Matcher[] }> = [
  {
    name: 'list packages',
    args: ['cmd', 'package', 'list', 'packages', '-f', '--show-versioncode'].map(word),
    optional: [word('-3')],
  },
  // `requirePackageManager`'s read-only check that the guest has Android before anything is copied.
  {
    name: 'list one package',
    args: [word('cmd'), word('package'), word('list'), word('packages'), pkg],
  },
  { name: 'package path', args: [word('cmd'), word('package'), word('path'), pkg] },
  { name: 'uninstall', args: [word('cmd'), word('package'), word('uninstall'), pkg] },
  { name: 'install', args: [word('cmd'), word('package'), word('install'), word('-S'), num] },
  {
    name: 'install-create',
    args: [word('cmd'), word('package'), word('install-create'), word('-S'), num],
  },
  {
    name: 'install-write',
    args: [
      word('cmd'),
      word('package'),
      word('install-write'),
      word('-S'),
      num,
      num,
      pattern(SPLIT_NAME),
      word('-'),
    ],
  },
  { name: 'install-commit', args: [word('cmd'), word('package'), word('install-commit'), num] },
  { name: 'install-abandon', args: [word('cmd'), word('package'), word('install-abandon'), num] },
  { name: 'start activity', args: [word('am'), word('start'), word('-n'), pattern(COMPONENT)] },
  {
    name: 'app settings',
    args: [
      word('am'),
      word('start'),
      word('-a'),
      word('android.settings.APPLICATION_DETAILS_SETTINGS'),
      word('-d'),
      (a) => a.startsWith('package:') && pkg(a.slice('package:'.length)),
    ],
  },
  { name: 'force-stop', args: [word('am'), word('force-stop'), pkg] },
];

/** The probe's path in the guest (`session/plan.ts`'s `PROBE_GUEST_PATH`). */
export const PROBE_GUEST_COMMAND = '/opt/droidway/probe/droidway-probe';

/** Probe arguments: printable and bounded (argv reaches `lxc-attach` as argv, never a shell). */
// eslint-disable-next-line no-control-regex
const PROBE_ARG = /^[^\u0000-\u001f\u007f]{0,4096}$/;

/**
 * Null when a non-root owner may run `argv` in its guest, else the reason it may not.
 * @param argv the command, program first
 */
export function guestVerbRefusal(argv: readonly string[]): string | null {
  if (argv.length === 0) return 'an empty command';
  if (argv[0] === PROBE_GUEST_COMMAND) {
    if (argv.length > 1024) return 'too many probe arguments';
    const bad = argv.slice(1).find((a) => !PROBE_ARG.test(a));
    return bad === undefined
      ? null
      : `probe argument ${JSON.stringify(bad.slice(0, 40))} is refused`;
  }
  for (const verb of VERBS) {
    const optional = verb.optional ?? [];
    const extra = argv.length - verb.args.length;
    if (extra < 0 || extra > optional.length) continue;
    const ok =
      verb.args.every((m, i) => m(argv[i]!)) &&
      optional.slice(0, extra).every((m, i) => m(argv[verb.args.length + i]!));
    if (ok) return null;
  }
  const shown = argv
    .slice(0, 4)
    .map((a) => a.slice(0, 40))
    .join(' ');
  return `"${shown}${argv.length > 4 ? ' …' : ''}" is not one of the guest commands Droidway runs for a desktop user`;
}
