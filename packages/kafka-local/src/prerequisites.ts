import { spawnSync } from 'node:child_process';
import { CrmError } from '@crm/runtime';

/** Fails with a message naming what to install, instead of a cryptic spawn error later. */
export function requireTool(command: string, versionArgs: string[], installHint: string): void {
  const result = spawnSync(command, versionArgs, { encoding: 'utf8' });
  if (result.error || result.status !== 0) {
    throw new CrmError('PREREQUISITE_MISSING', `'${command}' is not available: ${installHint}`);
  }
}

export function requireJava(): void {
  requireTool('java', ['-version'], 'install a Java 17+ runtime (Debian: apt-get install openjdk-17-jre-headless)');
  const out = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const match = /version "(\d+)/.exec(`${out.stderr}${out.stdout}`);
  if (match && Number(match[1]) < 17) {
    throw new CrmError('PREREQUISITE_MISSING', `Java ${match[1]} found; Kafka 4 needs Java 17 or newer`);
  }
}

export function requireMaven(): void {
  requireTool('mvn', ['-v'], 'install Apache Maven 3.8+ (Debian: apt-get install maven)');
}
