import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const SUITE = resolve(__dirname, '../../dist/apps/suite/main.js');

/** Starts the built suite with this environment and returns how it ended. */
const start = async (env: Record<string, string>): Promise<{ code: number | null; stderr: string }> => {
  if (!existsSync(SUITE)) throw new Error(`${SUITE} is missing: run \`npm run build\` first (npm test does)`);
  const dataDir = await mkdtemp(join(tmpdir(), 'mrw-config-'));
  return new Promise((done) => {
    const child = execFile(process.execPath, [SUITE], {
      env: { PATH: process.env['PATH'] ?? '', PORT: '0', HOST: '127.0.0.1', MRW_DATA_DIR: dataDir, ...env },
      timeout: 30_000,
    }, (_, __, stderr) => done({ code: child.exitCode, stderr }));
  });
};

/** A suite that cannot be run safely refuses to start, and says what to change. */
describe('configuration refused at start', () => {
  it('an MRW_ADMIN_TOKEN shorter than 32 characters: exit 2 with what to do', async () => {
    const { code, stderr } = await start({ MRW_ADMIN_TOKEN: 'letmein-admin' });
    expect(code).toBe(2);
    expect(stderr).toContain('MRW_ADMIN_TOKEN is 13 characters; it must be at least 32');
    expect(stderr).not.toContain('letmein-admin');
  });

  it('a distributed process without the shared MRW_SECRET_KEY: exit 2 with what to do', async () => {
    const { code, stderr } = await start({ MRW_BUS: 'kafka' });
    expect(code).toBe(2);
    expect(stderr).toContain('MRW_BUS=kafka needs MRW_SECRET_KEY');
  });
});
