/**
 * Errors of the policy module. Every refusal names the field it is about as a JSON Pointer into
 * the document (`/limits/pidsMax`, `/sharedFolders/0/host`), so the CLI and the policy editor can
 * point at it.
 */

/** One problem with a policy: where (JSON Pointer, `''` = the whole document) and what. */
export interface PolicyIssue {
  path: string;
  message: string;
}

/** Code of a document that fails the schema or a semantic rule. */
export const POLICY_INVALID = 'POLICY_INVALID';
/** Code of a document that is valid but cannot be applied on this host (e.g. a shared folder is not the user's). */
export const POLICY_HOST_REFUSED = 'POLICY_HOST_REFUSED';
/** Code of a compile context (runtime-supplied paths and names) that is unsafe to put in a config. */
export const POLICY_BAD_CONTEXT = 'POLICY_BAD_CONTEXT';

/** Thrown when a policy is refused; `issues` lists every problem found, not just the first. */
export class PolicyError extends Error {
  readonly code: string;
  readonly issues: readonly PolicyIssue[];

  constructor(code: string, issues: readonly PolicyIssue[]) {
    super(formatIssues(issues));
    this.name = 'PolicyError';
    this.code = code;
    this.issues = issues;
  }
}

/** One line per issue, `'/limits/pidsMax: must be at least 16'`, for logs and the CLI. */
export function formatIssues(issues: readonly PolicyIssue[]): string {
  if (issues.length === 0) return 'policy refused';
  return issues.map((i) => `${i.path === '' ? '(document)' : i.path}: ${i.message}`).join('\n');
}
