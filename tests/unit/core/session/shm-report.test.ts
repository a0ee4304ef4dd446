import { describe, expect, it } from 'vitest';
import { bridgeClientSummary } from '../../../../electron/core/session/shm-report.js';

describe('bridgeClientSummary', () => {
  it('sums the violations into rejections and drops bogus counts', () => {
    const summary = bridgeClientSummary({
      clientId: 3,
      pid: 42,
      uid: 0,
      connected: false,
      disconnectReason: 'violation:unsealed',
      commits: 9,
      buffersForwarded: { shm: 7, dmabuf: 1 },
      bytesCopied: 0,
      damageRectsDropped: 0,
      objects: 1,
      pools: 1,
      buffers: 1,
      surfaces: 1,
      fdsRejected: { unsealed: 2 },
      violations: { unsealed: 2, 'too-small': 1, bogus: -4, nan: Number.NaN },
    });
    expect(summary).toEqual({
      clientId: 3,
      pid: 42,
      connected: false,
      disconnectReason: 'violation:unsealed',
      buffersForwarded: { shm: 7, dmabuf: 1 },
      bytesCopied: 0,
      rejections: 3,
      rejectionsByReason: { unsealed: 2, 'too-small': 1 },
    });
  });
});
