import { describe, expect, it } from 'vitest';
import {
  guestVerbRefusal,
  PROBE_GUEST_COMMAND,
} from '../../../../electron/core/runtime/guest-verbs.js';

describe('guestVerbRefusal', () => {
  it("allows each verb Droidway's own code runs", () => {
    for (const argv of [
      ['cmd', 'package', 'list', 'packages', '-f', '--show-versioncode'],
      ['cmd', 'package', 'list', 'packages', '-f', '--show-versioncode', '-3'],
      ['cmd', 'package', 'list', 'packages', 'android'],
      ['cmd', 'package', 'path', 'org.example.hello'],
      ['cmd', 'package', 'uninstall', 'org.example.hello'],
      ['cmd', 'package', 'install', '-S', '12345'],
      ['cmd', 'package', 'install-create', '-S', '99'],
      ['cmd', 'package', 'install-write', '-S', '10', '1234', 'split_config.arm64_v8a', '-'],
      ['cmd', 'package', 'install-commit', '1234'],
      ['cmd', 'package', 'install-abandon', '1234'],
      ['am', 'start', '-n', 'org.example.hello/.Main'],
      ['am', 'start', '-n', 'org.example.hello/org.example.hello.Main'],
      [
        'am',
        'start',
        '-a',
        'android.settings.APPLICATION_DETAILS_SETTINGS',
        '-d',
        'package:org.example.hello',
      ],
      ['am', 'force-stop', 'org.example.hello'],
      [PROBE_GUEST_COMMAND, '--syscall', 'mount', '--masked', '/proc/kcore'],
    ])
      expect(guestVerbRefusal(argv), argv.join(' ')).toBeNull();
  });

  it('refuses anything else, with the command named', () => {
    for (const argv of [
      [],
      ['sh', '-c', 'id'],
      ['/system/bin/sh'],
      ['cmd', 'package', 'install', '-S', '12; reboot'],
      ['cmd', 'package', 'install', '-S', '1', 'extra'],
      ['cmd', 'package', 'path', '../../etc/passwd'],
      ['cmd', 'package', 'list', 'packages', '-f'],
      ['cmd', 'package', 'list', 'packages', 'android', 'extra'],
      ['cmd', 'package', 'list', 'packages', '-f', '--show-versioncode', '-3', '-u'],
      ['am', 'start', '-n', 'org.example/.Main', '--user', '0'],
      ['am', 'start', '-a', 'android.intent.action.VIEW', '-d', 'http://example.org'],
      ['am', 'force-stop', 'org.example.hello\n'],
      ['cmd', 'package', 'install-write', '-S', '10', '1', 'a/b', '-'],
      [PROBE_GUEST_COMMAND, 'bad\u0001arg'],
      ['pm', 'grant', 'org.example.hello', 'android.permission.CAMERA'],
    ]) {
      const refusal = guestVerbRefusal(argv);
      expect(refusal, argv.join(' ')).not.toBeNull();
    }
    expect(guestVerbRefusal(['sh', '-c', 'id'])).toMatch(
      /"sh -c id" is not one of the guest commands/,
    );
  });
});
