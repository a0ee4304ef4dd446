/**
 * `policy verify`: runs the isolation probe inside the running container through its host
 * (`attach-exec`), with host fixtures it must not reach, and compares what it saw with what the
 * policy promised (the session record's expectations, or a reference policy compiled the same way).
 */
import { collectHostFacts, prepareHostFixtures } from '../inspect/host-fixtures.js';
import { collectHostView } from '../inspect/host-view.js';
import { verifyIsolation, type VerifyReport } from '../inspect/verify.js';
import { compilePolicy, type CompileNote } from '../policy/policy-compile.js';
import type { ValidatedPolicy } from '../policy/policy-document.js';
import type { ProbeExpectations } from '../policy/probe-expectations.js';
import { requestAttachExec, requestHostView, requestStatus } from '../runtime/control-client.js';
import { RuntimeError } from '../runtime/runtime-errors.js';
import type { SessionRef } from '../runtime/session-client.js';
import { sessionPaths } from '../runtime/session-client.js';
import { instanceIdRange, PROBE_SCRATCH_DIR } from './plan.js';
import { readSessionRecord } from './record.js';
import { SessionServiceError } from './session-errors.js';

/** Options of `verifySession`. */
export interface VerifySessionOptions extends SessionRef {
  /**
   * Promises to check instead of the running session's own, e.g. a stronger policy's (a
   * weakened session must then fail exactly where it is weaker).
   */
  expectations?: ProbeExpectations;
  /**
   * A reference policy to check the session against (`policy verify --against`): compiled for
   * this host and this instance exactly as the session's own was, so a session started under a
   * weaker policy fails where it is weaker. Ignored when `expectations` is given.
   */
  against?: ValidatedPolicy;
  /** Abort the probe after this long; default 180 s. */
  timeoutMs?: number;
}

/** What `verifySession` returns: the report, and which policy's promises it checked. */
export interface SessionVerification {
  report: VerifyReport;
  /** The policy whose promises were checked (the reference's, with `against`). */
  policyName: string;
  /** The running session's own policy. */
  sessionPolicyName: string;
  notes: CompileNote[];
}

/**
 * Runs the isolation probe inside the running session and compares what it saw with the
 * policy's promises (the session's own unless `expectations` is given). Host fixtures (a TCP
 * server on 127.0.0.1, an abstract socket, a SysV queue) exist only while the probe runs.
 * Rejects with `SESSION_NOT_RUNNING`, `SESSION_BAD_STATE` (frozen), `PROBE_UNAVAILABLE`,
 * `SESSION_RECORD_INVALID`, or the verifier's `VerifyError`/`ProbeOutputError`; a probe that
 * ran and saw a broken promise resolves with a failing report.
 */
export async function verifySession(
  options: VerifySessionOptions = {},
): Promise<SessionVerification> {
  const paths = sessionPaths(options.instance, options);
  const status = await requestStatus(paths.controlSocket);
  if (status.state.name !== 'running') {
    throw new RuntimeError(
      'SESSION_BAD_STATE',
      `cannot verify a session that is ${status.state.name} (needs running)`,
    );
  }
  const record = await readSessionRecord(paths);
  if (record.probe === null) {
    throw new SessionServiceError(
      'PROBE_UNAVAILABLE',
      'this session was started without the isolation probe (build it with `make -C native/probe`, then restart the session)',
    );
  }
  const probe = record.probe;
  let expectations = options.expectations ?? record.expectations;
  let policyName = record.policyName;
  let notes = record.notes;
  if (options.expectations === undefined && options.against !== undefined) {
    if (record.context === undefined)
      throw new SessionServiceError(
        'SESSION_RECORD_INVALID',
        `the session of ${paths.name} was started before its compile context was recorded; restart it to verify it against another policy`,
      );
    // A session started without a user namespace has no id range in its context; the
    // reference is compiled with the range this instance has (or gets) for one.
    const idRange =
      record.context.idRange ?? (await instanceIdRange(options.against, paths, options));
    const reference = compilePolicy(options.against, {
      ...record.context,
      ...(idRange !== null ? { idRange } : {}),
    });
    expectations = {
      ...reference.expectations,
      ...(record.expectations.initFdTargets !== undefined
        ? { initFdTargets: record.expectations.initFdTargets }
        : {}),
    };
    policyName = options.against.name;
    notes = reference.notes;
  }
  const timeoutMs = options.timeoutMs ?? 180_000;
  const fixtures = await prepareHostFixtures();
  try {
    const facts = await collectHostFacts(fixtures);
    // A desktop user cannot read its root-owned container's /proc entries: its host reads them.
    if (status.initPid !== null)
      facts.view =
        process.getuid?.() === 0
          ? await collectHostView(status.initPid, { consoleLog: paths.consoleLog })
          : await requestHostView(paths.controlSocket);
    const report = await verifyIsolation(
      expectations,
      async (argv) => {
        const r = await requestAttachExec(paths.controlSocket, [probe, ...argv], {
          timeoutMs: timeoutMs + 5_000,
        });
        return {
          stdout: r.stdout.toString('utf8'),
          stderr: r.stderr.toString('utf8'),
          exitCode: r.exitCode,
        };
      },
      facts,
      { timeoutMs, scratchDir: PROBE_SCRATCH_DIR },
    );
    return { report, policyName, sessionPolicyName: record.policyName, notes };
  } finally {
    await fixtures.close();
  }
}
