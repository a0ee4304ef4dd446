/**
 * Desktop notifications of install results, for the install flow to call from main. The page
 * itself has no notification permission (main refuses every permission request).
 */
import { Notification } from 'electron';

/** An install's outcome, as the notification tells it. */
export interface InstallOutcome {
  /** App label or file name. */
  name: string;
  ok: boolean;
  /** Why it failed, for a failed install. */
  message?: string;
}

/**
 * Shows one notification for an install result; `onClick` runs when the user clicks it (e.g. to
 * show the window). Does nothing where the desktop has no notification service.
 */
export function notifyInstallResult(outcome: InstallOutcome, onClick?: () => void): void {
  if (!Notification.isSupported()) return;
  const notification = new Notification({
    title: outcome.ok ? `${outcome.name} installed` : `${outcome.name} was not installed`,
    body: outcome.ok
      ? 'It is in the Apps page and the applications menu.'
      : (outcome.message ?? ''),
    urgency: outcome.ok ? 'normal' : 'critical',
  });
  if (onClick !== undefined) notification.on('click', onClick);
  notification.show();
}
