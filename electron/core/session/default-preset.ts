/**
 * Which guest `--image demo` names and which preset a session gets when no policy is given. Its
 * own module, so the `session` command's help text does not load the session planner with it.
 */

/** The image name of the demo guest; any other `--image` names an Android image. */
export const DEMO_IMAGE = 'demo';

/** Preset used when no policy is given: `strict` for the demo guest, `android` for Android. */
export function defaultPresetFor(image: string): 'strict' | 'android' {
  return image === DEMO_IMAGE ? 'strict' : 'android';
}
