import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REJECTION_CODES, SCHEMAS_DIR } from '../src/index.js';

describe('the producer guide', () => {
  it('documents exactly the rejection codes the code can produce', () => {
    const doc = readFileSync(join(SCHEMAS_DIR, '../docs/INGEST.md'), 'utf8');
    const section = doc.slice(doc.indexOf('Reason codes'), doc.indexOf('## Guarantees'));
    const documented = [...section.matchAll(/^\| `([a-z_]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.keys(REJECTION_CODES).sort());
  });
});
