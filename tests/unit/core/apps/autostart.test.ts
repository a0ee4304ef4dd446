import { spawnSync } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { autostartFile, setAutostart } from '../../../../electron/core/apps/autostart.js';

let configHome: string;
beforeEach(async () => {
  configHome = await fs.mkdtemp(path.join(os.tmpdir(), 'droidway-autostart-'));
});
afterEach(async () => {
  await fs.rm(configHome, { recursive: true, force: true });
});

describe('setAutostart', () => {
  it('writes an XDG autostart entry that starts Droidway hidden, and removes it', async () => {
    const launcher = ['/opt/Droidway/droidway'];
    expect(await setAutostart({ configHome }, true, launcher)).toBe(true);
    const file = autostartFile({ configHome });
    expect(file).toBe(path.join(configHome, 'autostart', 'droidway.desktop'));
    const text = await fs.readFile(file, 'utf8');
    expect(text).toMatch(/^Exec=\/opt\/Droidway\/droidway --hidden$/m);
    const validate = spawnSync('desktop-file-validate', [file], { encoding: 'utf8' });
    if (validate.error === undefined) expect(validate.stdout + validate.stderr).toBe('');
    // The same setting again changes nothing.
    expect(await setAutostart({ configHome }, true, launcher)).toBe(false);
    expect(await setAutostart({ configHome }, false, launcher)).toBe(true);
    await expect(fs.stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await setAutostart({ configHome }, false, launcher)).toBe(false);
  });

  it('quotes a launcher path with spaces', async () => {
    await setAutostart({ configHome }, true, ['/opt/My Apps/droidway']);
    expect(await fs.readFile(autostartFile({ configHome }), 'utf8')).toMatch(
      /^Exec="\/opt\/My Apps\/droidway" --hidden$/m,
    );
  });
});
