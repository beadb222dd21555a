import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../support/repo-root.js';

/**
 * The soak (bench/soak.ts) as CI runs it: 30 s of load on the real server, results files left
 * alone. Its own verdict (errors, early exit, unbounded memory growth) is its exit code; the summary
 * must also show that load was really applied.
 */
const DURATION_SECONDS = 30;

function runSoak(): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'bench/soak.ts', '--duration', String(DURATION_SECONDS), '--no-write'],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('soak (bench/soak.ts)', () => {
  it(
    `passes ${DURATION_SECONDS} s of load with requests and no errors`,
    async () => {
      const { code, stdout, stderr } = await runSoak();
      const output = `${stdout}\n${stderr}`;
      expect(code, output).toBe(0);
      const totals = /^soak: duration \d+ s, requests (\d+) \([\d.]+\/s\), errors (\d+)$/m.exec(stdout);
      expect(totals, output).not.toBeNull();
      expect(Number(totals?.[1])).toBeGreaterThan(0);
      expect(Number(totals?.[2])).toBe(0);
      expect(stdout).toMatch(
        /^soak: uploads [1-9]\d* \([1-9]\d* events\), now\.json [1-9]\d*, streams 2 \([1-9]\d* events\)$/m,
      );
      expect(stdout).toMatch(/grows without bound: no$/m);
      expect(stdout).toMatch(/^soak: PASS$/m);
    },
    (DURATION_SECONDS + 60) * 1000,
  );
});
