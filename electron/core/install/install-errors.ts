/**
 * Install failures as typed errors with plain-language messages. Android's verdict codes
 * (`INSTALL_FAILED_…`, `INSTALL_PARSE_FAILED_…`) are kept as the error code so callers can
 * branch on them; the message says what it means for the user. Unknown verdicts keep Android's
 * words verbatim.
 */
import type { InstallVerdict } from '../android/pm-output.js';

/** Codes of failures the pipeline itself detects, before the guest sees anything. */
export type InstallInputCode =
  /** The input could not be read to the end (it shrank, an I/O error). */
  | 'INPUT_UNREADABLE'
  /** An `.apks`/`.xapk` bundle holding no APK, or too many. */
  | 'BUNDLE_INVALID'
  /** The staging folder could not be prepared. */
  | 'STAGING_FAILED'
  /** Cancelled by the caller. */
  | 'CANCELLED';

/** Thrown (and reported) by the install pipeline; `code` is stable, `message` for a person. */
export class InstallError extends Error {
  readonly code: string;
  /** Android's own words, when the guest gave the verdict. */
  readonly guestDetail: string | undefined;
  constructor(
    code: string,
    message: string,
    options: { cause?: unknown; guestDetail?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'InstallError';
    this.code = code;
    this.guestDetail = options.guestDetail;
  }
}

/** Android versions by API level, for messages. */
const ANDROID_VERSIONS: Record<number, string> = {
  16: '4.1',
  17: '4.2',
  18: '4.3',
  19: '4.4',
  21: '5.0',
  22: '5.1',
  23: '6',
  24: '7.0',
  25: '7.1',
  26: '8.0',
  27: '8.1',
  28: '9',
  29: '10',
  30: '11',
  31: '12',
  32: '12L',
  33: '13',
  34: '14',
  35: '15',
  36: '16',
};

/** `Android 14 (API 34)`, or `API level N` for a level without a name here. */
export function androidVersionName(api: number): string {
  const v = ANDROID_VERSIONS[api];
  return v === undefined ? `API level ${api}` : `Android ${v} (API ${api})`;
}

/** What the pipeline knows about the APK when the verdict arrives (for better messages). */
export interface VerdictContext {
  packageName?: string;
  minSdkVersion?: number;
  nativeAbis?: string[];
}

/**
 * Turns a failed verdict into an `InstallError` with a plain-language message. Known codes get
 * an explanation (older SDK → "needs Android N, this guest runs M"); unknown ones keep Android's
 * words.
 */
export function verdictError(
  verdict: Extract<InstallVerdict, { ok: false }>,
  context: VerdictContext = {},
): InstallError {
  const { code, detail } = verdict;
  const app = context.packageName ?? 'this app';
  const make = (message: string): InstallError =>
    new InstallError(code, message, { guestDetail: detail });
  switch (code) {
    case 'INSTALL_FAILED_OLDER_SDK': {
      const need = /newer sdk version #(\d{1,4})/i.exec(detail)?.[1];
      const have = /current version is #(\d{1,4})/i.exec(detail)?.[1];
      const needed = need !== undefined ? Number(need) : context.minSdkVersion;
      const needText = needed !== undefined ? androidVersionName(needed) : 'a newer Android';
      const haveText =
        have !== undefined ? androidVersionName(Number(have)) : 'an older Android version';
      return make(`${app} needs ${needText}; this guest runs ${haveText}`);
    }
    case 'INSTALL_FAILED_NO_MATCHING_ABIS': {
      const abis = context.nativeAbis?.length ? ` (${context.nativeAbis.join(', ')})` : '';
      return make(
        `${app} contains native code only for other processors${abis}; this guest runs x86_64/x86 code`,
      );
    }
    case 'INSTALL_FAILED_UPDATE_INCOMPATIBLE':
      return make(
        `${app} is already installed, signed by a different developer; uninstalling the installed one first would erase its data`,
      );
    case 'INSTALL_FAILED_VERSION_DOWNGRADE': {
      const m = /version code (\d+) is older than current (\d+)/i.exec(detail);
      return make(
        m !== null
          ? `a newer version of ${app} is installed (version code ${m[2]}; this file has ${m[1]})`
          : `a newer version of ${app} is already installed`,
      );
    }
    case 'INSTALL_FAILED_INSUFFICIENT_STORAGE':
      return make(`the guest does not have enough free storage for ${app}`);
    case 'INSTALL_PARSE_FAILED_NOT_APK':
      return make('the file is not an Android app (APK)');
    case 'INSTALL_FAILED_INVALID_APK':
      return make(
        /base package/i.test(detail)
          ? 'the bundle has split APKs but no base APK'
          : `the app package is invalid: ${detail || 'Android refused it'}`,
      );
    case 'INSTALL_PARSE_FAILED_NO_CERTIFICATES':
      return make(`${app} is not signed; Android installs only signed apps`);
    case 'INSTALL_FAILED_ALREADY_EXISTS':
      return make(`${app} is already installed`);
    case 'ERROR':
      return make(`the guest's package manager reported an error: ${detail}`);
    default:
      return make(`Android refused the install: ${code}${detail ? `: ${detail}` : ''}`);
  }
}
