import { describe, expect, it } from 'vitest';
import { LINUX_CAPABILITIES } from '../../../../electron/core/policy/capabilities.js';
import { CAPABILITY_EXPLANATIONS } from '../../../../renderer/src/lib/capabilities.js';

describe('the policy editor explains every capability', () => {
  it('has one line for each capability the core knows, and none it does not', () => {
    expect(Object.keys(CAPABILITY_EXPLANATIONS).sort()).toEqual([...LINUX_CAPABILITIES].sort());
    for (const line of Object.values(CAPABILITY_EXPLANATIONS)) {
      expect(line).toMatch(/^[A-Z].{8,90}\.$/);
    }
  });
});
