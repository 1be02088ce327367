import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@crm/runtime';
import { unsupportedNode } from '../../../scripts/node-support.mjs';

// The project's Node: scripts/with-node and bin/crm start the one scripts/bootstrap.sh put in
// .local/node; the launcher and vitest refuse an older one. Run in a scratch copy of those files,
// where .local/node/bin/node is a stand-in that says what it was asked to run.
let dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs = [];
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'crm-node-'));
  dirs.push(dir);
  for (const file of ['scripts/with-node', 'packages/cli/bin/crm']) {
    mkdirSync(join(dir, file, '..'), { recursive: true });
    copyFileSync(join(REPO_ROOT, file), join(dir, file));
    chmodSync(join(dir, file), 0o755);
  }
  mkdirSync(join(dir, 'bin'));
  symlinkSync('../packages/cli/bin/crm', join(dir, 'bin/crm'));
  return dir;
}

function standInNode(dir: string): void {
  mkdirSync(join(dir, '.local/node/bin'), { recursive: true });
  writeFileSync(join(dir, '.local/node/bin/node'), '#!/bin/sh\nprintf "stand-in:%s\\n" "$@"\n', { mode: 0o755 });
}

const run = (command: string, args: string[]) => execFileSync(command, args, { encoding: 'utf8', env: { ...process.env, PATH: '/usr/bin:/bin' } });

describe('scripts/with-node', () => {
  it('puts .local/node/bin first on PATH for the command it runs', () => {
    const dir = scratch();
    standInNode(dir);
    expect(run(join(dir, 'scripts/with-node'), ['node', 'x'])).toBe('stand-in:x\n');
    expect(run(join(dir, 'scripts/with-node'), ['sh', '-c', 'command -v node'])).toBe(`${join(dir, '.local/node/bin/node')}\n`);
  });

  it("leaves PATH alone without .local/node (the machine's Node is the pinned major)", () => {
    const dir = scratch();
    expect(run(join(dir, 'scripts/with-node'), ['sh', '-c', 'echo "$PATH"'])).toBe('/usr/bin:/bin\n');
  });
});

describe('bin/crm', () => {
  it("runs the launcher on .local/node's node, the arguments exactly as given, also through a symlink on PATH", () => {
    const dir = scratch();
    standInNode(dir);
    const args = ['sql', "SELECT 'a' != 'b'", 'two words', '$HOME', ''];
    const expected = [join(dir, 'packages/cli/bin/crm.mjs'), ...args].map((a) => `stand-in:${a}\n`).join('');
    expect(run(join(dir, 'bin/crm'), args)).toBe(expected);
    const link = join(dir, 'elsewhere/crm');
    mkdirSync(join(dir, 'elsewhere'));
    symlinkSync(join(dir, 'bin/crm'), link);
    expect(run(link, args)).toBe(expected);
  });
});

describe('unsupportedNode', () => {
  function root(engines: string, abi?: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'crm-node-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ engines: { node: engines } }));
    if (abi !== undefined) {
      mkdirSync(join(dir, 'node_modules'));
      writeFileSync(join(dir, 'node_modules/.node-abi'), `${abi}\n`);
    }
    return dir;
  }
  const major = Number(process.versions.node.split('.')[0]);

  it('accepts this Node against its own major, and addons built for its ABI (or of no record)', () => {
    expect(unsupportedNode(root(`>=${major}`, process.versions.modules))).toBeUndefined();
    expect(unsupportedNode(root(`>=${major}`))).toBeUndefined();
  });

  it('refuses an older Node, naming the version, the requirement and the fix', () => {
    expect(unsupportedNode(root(`>=${major + 1}`))).toBe(
      `Node.js ${process.version} is older than the project supports (>=${major + 1}); run \`bash scripts/bootstrap.sh\` first (it installs the pinned Node.js LTS into .local/node when the machine has another)`,
    );
  });

  it('refuses node_modules whose addons were built for another Node', () => {
    expect(unsupportedNode(root(`>=${major}`, String(Number(process.versions.modules) - 1)))).toMatch(/^node_modules was installed for another Node\.js than v\d+\.\d+\.\d+; run `bash scripts\/bootstrap.sh` first/);
  });

  it('holds for the repository as it is: the Node this test runs on is the one the project supports', () => {
    expect(unsupportedNode(REPO_ROOT)).toBeUndefined();
  });
});
