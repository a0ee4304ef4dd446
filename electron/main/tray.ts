/**
 * The tray icon: renders `trayMenuModel` (core) with Electron's `Tray` and `Menu`, and rebuilds
 * the menu whenever the app reports a change (session state, pins, recents, catalog, error).
 */
import { Menu, Tray, nativeImage, type MenuItemConstructorOptions } from 'electron';
import {
  trayMenuModel,
  type TrayAction,
  type TrayItem,
  type TrayModelInput,
} from '../core/apps/tray-model.js';

/** What the tray's items do. */
export type TrayActionHandler = (action: TrayAction) => void;

/** A tray on screen. */
export interface DroidwayTray {
  /** Rebuilds the menu from the new state (cheap; call on every relevant event). */
  update(input: TrayModelInput): void;
  destroy(): void;
}

/** Electron menu items for the model's items. */
export function toMenuTemplate(
  items: readonly TrayItem[],
  onAction: TrayActionHandler,
): MenuItemConstructorOptions[] {
  return items.map((item): MenuItemConstructorOptions => {
    if (item.type === 'separator') return { id: item.id, type: 'separator' };
    if (item.type === 'header') return { id: item.id, label: item.label, enabled: false };
    const { action } = item;
    return {
      id: item.id,
      label: item.label,
      enabled: item.enabled,
      ...(action !== undefined ? { click: () => onAction(action) } : {}),
    };
  });
}

/**
 * Shows the tray icon (`iconPath`, a PNG) with the menu for `initial`; clicks go to `onAction`,
 * a click on the icon itself shows the window.
 */
export function createTray(
  iconPath: string,
  initial: TrayModelInput,
  onAction: TrayActionHandler,
): DroidwayTray {
  const tray = new Tray(nativeImage.createFromPath(iconPath).resize({ width: 22, height: 22 }));
  tray.setToolTip('Droidway');
  tray.on('click', () => onAction({ kind: 'show-window' }));
  const update = (input: TrayModelInput): void => {
    tray.setContextMenu(Menu.buildFromTemplate(toMenuTemplate(trayMenuModel(input), onAction)));
  };
  update(initial);
  return { update, destroy: () => tray.destroy() };
}
