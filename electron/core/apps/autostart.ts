/**
 * "Start at login" on a Linux desktop: an XDG autostart entry, `$XDG_CONFIG_HOME/autostart/
 * droidway.desktop` (Electron's `setLoginItemSettings` does nothing on Linux). The entry starts
 * Droidway with `--hidden` (to the tray, no window); removing the setting removes the file.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { execLine, writeFileAtomic, type XdgDirs } from './desktop-entry.js';

/** The autostart entry's file. */
export function autostartFile(dirs: Pick<XdgDirs, 'configHome'>): string {
  return path.join(dirs.configHome, 'autostart', 'droidway.desktop');
}

/** The entry's text for `launcher` (`resolveLauncherCommand()`'s result). */
export function autostartEntryText(launcher: readonly string[]): string {
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Droidway',
    'Comment=Android apps as Wayland windows, in an isolated container',
    'Icon=droidway',
    `Exec=${execLine([...launcher, '--hidden'])}`,
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

/**
 * Writes (`enabled`) or removes the autostart entry. Resolves with whether the file changed.
 * An unchanged entry is left alone, so applying the same settings again writes nothing.
 */
export async function setAutostart(
  dirs: Pick<XdgDirs, 'configHome'>,
  enabled: boolean,
  launcher: readonly string[],
): Promise<boolean> {
  const file = autostartFile(dirs);
  if (!enabled) {
    try {
      await fs.unlink(file);
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw e;
    }
  }
  const text = autostartEntryText(launcher);
  const current = await fs.readFile(file, 'utf8').catch(() => null);
  if (current === text) return false;
  await writeFileAtomic(file, text, 0o644);
  return true;
}
