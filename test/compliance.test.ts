import { existsSync } from 'node:fs';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DOC_FILE, REPO_ROOT, generateCompliancePage } from '../tools/compliance/generate.js';
import { REQUIREMENTS } from '../tools/compliance/requirements.js';

/** Returns the text from `heading` to the next heading of the same depth or the end. */
function sectionOf(page: string, heading: string): string {
  const start = page.indexOf(heading);
  if (start < 0) return '';
  const end = page.indexOf('\n### ', start + heading.length);
  return end < 0 ? page.slice(start) : page.slice(start, end);
}

describe('docs/compliance.md', () => {
  let generated: string;

  beforeAll(async () => {
    generated = await generateCompliancePage();
  });

  it('matches the generator output', async () => {
    const committed = await readFile(DOC_FILE, 'utf8');
    if (committed === generated) return;

    const generatedFile = path.join(await mkdtemp(path.join(tmpdir(), 'parley-compliance-')), 'compliance.md');
    await writeFile(generatedFile, generated);
    expect(committed, `docs/compliance.md is out of date: run "npm run compliance" (the generated page is in ${generatedFile})`).toBe(generated);
  });

  it('has a row for every Advanced Server requirement', () => {
    const advanced = REQUIREMENTS.filter((requirement) => requirement.levels.includes('Advanced Server'));
    expect(advanced.length).toBeGreaterThan(0);
    for (const requirement of advanced) {
      const section = sectionOf(generated, `### ${requirement.category}, Advanced Server`);
      expect(section, `${requirement.category}: ${requirement.feature}`).toContain(`| ${requirement.feature}`);
    }
  });

  it('names only test files that exist', () => {
    const files = REQUIREMENTS.flatMap((requirement) => requirement.evidence.flatMap((evidence) => (evidence.kind === 'test' ? [evidence.file] : [])));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) expect(existsSync(path.join(REPO_ROOT, file)), file).toBe(true);
  });
});
