import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CrmError, REPO_ROOT } from '@crm/runtime';
import { requireJava, requireMaven } from './prerequisites.js';

export const KAFKA_POM = join(REPO_ROOT, 'infra/kafka/pom.xml');
export const DEFAULT_LIBS_DIR = join(REPO_ROOT, 'infra/kafka/libs');

/**
 * Resolves the Kafka broker jars with Maven into `libsDir` (ignored by git,
 * cached in ~/.m2). Re-resolves only when the pom changed, so calling it on
 * every start is cheap.
 */
export async function provisionKafka(libsDir = DEFAULT_LIBS_DIR, onProgress?: (line: string) => void): Promise<string> {
  requireJava();
  const pomHash = createHash('sha256').update(readFileSync(KAFKA_POM)).digest('hex');
  const marker = join(libsDir, '.pom-sha256');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === pomHash && hasBrokerJar(libsDir)) return libsDir;

  requireMaven();
  rmSync(libsDir, { recursive: true, force: true });
  mkdirSync(libsDir, { recursive: true });
  onProgress?.('resolving the Kafka broker jars with Maven (first run only)…');
  const args = ['-B', '-q', '-f', KAFKA_POM, 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${libsDir}`];
  const output = await run('mvn', args);
  if (!hasBrokerJar(libsDir)) {
    throw new CrmError('KAFKA_PROVISION_FAILED', `Maven did not produce the Kafka jars in ${libsDir}:\n${output}`);
  }
  writeFileSync(marker, pomHash);
  return libsDir;
}

function hasBrokerJar(libsDir: string): boolean {
  return existsSync(libsDir) && readdirSync(libsDir).some((f) => /^kafka_2\.13-.*\.jar$/.test(f));
}

function run(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (error) => reject(new CrmError('KAFKA_PROVISION_FAILED', `${command} failed to start`, { cause: error })));
    child.on('exit', (code) =>
      code === 0
        ? resolve(output)
        : reject(new CrmError('KAFKA_PROVISION_FAILED', `${command} ${args.join(' ')} exited with ${code}:\n${output.slice(-4000)}`)),
    );
  });
}
