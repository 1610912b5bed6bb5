/**
 * A past revision of the config is compared, not enforced: fields today's schema requires
 * that were added later (the register's opt-out and contact text, a row filter's
 * description) are filled for the comparison only when absent; a value that is present is
 * still validated as written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parse, stringify } from 'yaml';
import { validateConfigFiles } from '../../lib/config/loader';
import { NOT_STATED_IN_REVISION, withRequirementsAddedLater } from '../../lib/governance/git-config';
import { TEST_TODAY } from '../helpers/config-fixture';

const CONFIG = path.join(__dirname, '..', '..', 'config');

/** Today's example config as files, with the later fields taken out as an older revision would lack them. */
function pastFiles(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(CONFIG, rel), { withFileTypes: true })) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (entry.isDirectory()) walk(child);
      else if (/\.ya?ml$/.test(entry.name)) files.set(child, fs.readFileSync(path.join(CONFIG, child), 'utf8'));
    }
  };
  walk('');
  const platform = parse(files.get('platform.yaml')!);
  delete platform.register.optOut;
  delete platform.register.contact;
  files.set('platform.yaml', stringify(platform));
  for (const [file, text] of files) {
    if (!file.startsWith('projects/')) continue;
    const project = parse(text);
    for (const grant of Object.values(project.datasets ?? {}) as { rowFilterDescription?: string }[]) delete grant.rowFilterDescription;
    files.set(file, stringify(project));
  }
  return files;
}

test('without the later fields, a past revision is refused as it stands and read once they are filled', () => {
  const files = pastFiles();
  const asItStands = validateConfigFiles(files, 'config@past', { today: TEST_TODAY, benefitGate: false });
  expect(asItStands.problems.map((p) => p.field)).toEqual(expect.arrayContaining(['register.optOut', 'register.contact']));
  // With the platform's fields filled, the projects' filters are still refused without their descriptions.
  const platformOnly = new Map(files);
  platformOnly.set('platform.yaml', withRequirementsAddedLater(new Map([['platform.yaml', files.get('platform.yaml')!]])).get('platform.yaml')!);
  const projectsAsTheyStand = validateConfigFiles(platformOnly, 'config@past', { today: TEST_TODAY, benefitGate: false });
  expect(projectsAsTheyStand.problems.filter((p) => p.field.endsWith('rowFilterDescription')).length).toBeGreaterThan(0);

  const filled = validateConfigFiles(withRequirementsAddedLater(files), 'config@past', { today: TEST_TODAY, benefitGate: false });
  expect(filled.problems).toEqual([]);
  expect(filled.config?.platform.register.optOut.text).toBe(NOT_STATED_IN_REVISION);
  const filtered = filled.config!.projects.flatMap((p) => Object.values(p.datasets)).filter((g) => g.rowFilter !== undefined);
  expect(filtered.length).toBeGreaterThan(0);
  for (const grant of filtered) expect(grant.rowFilterDescription).toBe(NOT_STATED_IN_REVISION);
});

test('a value that is present is left as written, and still validated', () => {
  const files = pastFiles();
  const platform = parse(files.get('platform.yaml')!);
  platform.register.contact = { name: 'A data office' }; // neither an e-mail nor a web page
  files.set('platform.yaml', stringify(platform));
  const result = validateConfigFiles(withRequirementsAddedLater(files), 'config@past', { today: TEST_TODAY, benefitGate: false });
  expect(result.problems.map((p) => p.field)).toContain('register.contact');
  // Today's files, which have every field, come back unchanged.
  const today = new Map([['platform.yaml', fs.readFileSync(path.join(CONFIG, 'platform.yaml'), 'utf8')]]);
  expect(withRequirementsAddedLater(today).get('platform.yaml')).toBe(today.get('platform.yaml'));
});
