/** The plain-English governance diff between two in-memory configs (the example, and the example changed). */
import { diffConfigs } from '../../lib/governance/config-diff';
import { approvalChangeProblems } from '../../lib/governance/approval-changes';
import { renderGovernanceHtml, renderGovernanceMarkdown } from '../../lib/governance/report-render';
import { validateConfigFiles } from '../../lib/config/loader';
import { edit, exampleFiles, load } from './helpers';

const BEFORE_DAY = '2026-11-22';
const AFTER_DAY = '2027-10-15'; // medisight-prescribing (ends 2027-09-30) has expired by then
const base = exampleFiles();
const before = load(base, BEFORE_DAY, 'config@v1');

function changed() {
  let f = base;
  // a new project, approved with named citizen members
  f = new Map(f).set(
    'projects/hackney-falls.yaml',
    (f.get('projects/ncl-winter-planning.yaml') as string)
      .replace('id: ncl-winter-planning', 'id: hackney-falls')
      .replace(/title: .*/, 'title: Falls prevention in Hackney')
      .replace('name: NHS North Central London Integrated Care Board', 'name: London Borough of Hackney')
      .replace('reference: DAC-2026-014', 'reference: DAC-2027-040')
      .replace('date: "2026-03-12"', 'date: "2027-06-10"'),
  );
  // ucl extended, with a new approval naming the citizen members present
  f = edit(f, 'projects/ucl-multimorbidity.yaml', (d) => {
    d.period.end = '2030-05-31';
    d.approval = {
      committee: 'OneLondon Data Access Committee',
      reference: 'DAC-2027-051',
      date: '2027-07-01',
      citizenMembersPresent: 2,
      citizenMembers: ['CM-04', 'CM-09'],
      // The extension keeps the grant's measured risk and its acceptance.
      disclosureRisk: d.approval.disclosureRisk,
      riskAcceptance: d.approval.riskAcceptance,
    };
    d.datasets.gp_events.columns.push('gp_practice_code');
    d.datasets.demographics.columns = d.datasets.demographics.columns.filter((c: string) => c !== 'ethnicity');
  });
  // ncl: a row filter changed and a dataset removed; one researcher replaced by another
  f = edit(f, 'projects/ncl-winter-planning.yaml', (d) => {
    d.datasets.hospital_episodes.rowFilter = "admission_method IN ('21','22')";
    d.datasets.hospital_episodes.rowFilterDescription = 'two kinds of emergency admission only';
    delete d.datasets.demographics;
    d.researchers[1].id = 'NCL-R-0031';
  });
  // opt-out rule and a de-identification rule changed
  f = edit(f, 'datasets/gp_events.yaml', (d) => {
    // Off only for a dataset with no person key: person-level rows must have the opt-out applied.
    d.nationalDataOptOut = false;
    delete d.personKey;
  });
  // prices
  f = edit(f, 'platform.yaml', (d) => {
    d.pricing.tiers.commercial.accessFeePerMonth = 2500;
    d.pricing.tiers.charity.multiplier = 1;
  });
  // medisight marked expired at the end of its period
  f = edit(f, 'projects/medisight-prescribing.yaml', (d) => (d.status = 'expired'));
  return f;
}

describe('governance diff', () => {
  const problemsOf = (files: Map<string, string>) => validateConfigFiles(files, 'config', { today: AFTER_DAY }).problems;

  test('the changed config is itself valid (so the diff compares two real configs)', () => {
    // ucl's grant of event_date_year must exist after de-identification, etc.
    expect(problemsOf(changed())).toEqual([]);
  });

  test('says in plain English what changed, by section', () => {
    const after = load(changed(), AFTER_DAY, 'working tree');
    const diff = diffConfigs(before, after, { before: 'v1', after: 'now' });
    const by = (section: string) => diff.changes.filter((c) => c.section === section).map((c) => c.text);
    expect(by('approved')).toEqual([
      expect.stringMatching(
        /^London Borough of Hackney's project "Falls prevention in Hackney" \(hackney-falls\) was added: planning, nhs tier, .*DAC-2027-040 on 2027-06-10, citizen members CM-01, CM-03, CM-07 present/,
      ),
    ]);
    expect(by('extended')).toEqual([
      expect.stringMatching(
        /ucl-multimorbidity\) was extended from 2029-05-31 to 2030-05-31\. Approval recorded: .*DAC-2027-051 on 2027-07-01, citizen members CM-04, CM-09 present/,
      ),
    ]);
    expect(by('ended')).toEqual([
      expect.stringMatching(/medisight-prescribing\) was marked expired: it no longer has access, and stays on the public register/),
    ]);
    expect(by('access')).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/ucl-multimorbidity\) may now also see gp_events columns "gp_practice_code"/),
        expect.stringMatching(/ucl-multimorbidity\) may no longer see demographics columns "ethnicity"/),
        expect.stringMatching(/ncl-winter-planning\) may no longer see dataset demographics/),
        expect.stringMatching(
          /ncl-winter-planning\) sees different rows of hospital_episodes: two kinds of emergency admission only \(rows where admission_method IN \('21','22'\)\) \(was: emergency admissions only \(rows where admission_method IN \('21','22','23','24','25','28'\)\)\)/,
        ),
      ]),
    );
    expect(by('optout')).toEqual([expect.stringMatching(/opt-out is now NOT applied to gp_events \(it was before\)/)]);
    expect(by('prices')).toEqual([
      expect.stringMatching(/charity tier .* now costs GBP 150 a month plus GBP 5 per TB scanned × 1 \(was .*× 1\.25\)/),
      expect.stringMatching(/commercial tier .* now costs GBP 2500 a month/),
    ]);
    expect(by('projects')).toEqual(expect.arrayContaining([expect.stringMatching(/ucl-multimorbidity\) has a new approval record/)]));
    // People are counted, even when one replaces another; never named.
    expect(by('projects')).toEqual(
      expect.arrayContaining([expect.stringMatching(/ncl-winter-planning\) now has 3 named researchers \(was 3: 1 added, 1 removed\)/)]),
    );
    expect(JSON.stringify(diff)).not.toMatch(/NCL-R-00(22|31)/);
    // the new and the extended project both name their citizen members: nothing to flag
    expect(by('concerns')).toEqual([]);
    // no researcher ARNs in the report
    expect(JSON.stringify(diff)).not.toMatch(/arn:aws/);
  });

  test('rule changes are reported', () => {
    const after = load(
      edit(changed(), 'platform.yaml', (d) => (d.governance.minimumCitizenMembers = 1)),
      AFTER_DAY,
    );
    const diff = diffConfigs(before, after, { before: 'v1', after: 'now' });
    expect(diff.changes.filter((c) => c.section === 'rules').map((c) => c.text)).toEqual(['The citizen quorum for an approval is now 1 (was 2).']);
  });

  test('nothing changed', () => {
    const diff = diffConfigs(before, load(base, BEFORE_DAY), { before: 'v1', after: 'now' });
    expect(diff.changes).toEqual([]);
    expect(renderGovernanceMarkdown(diff)).toMatch(/Nothing in the governance configuration changed/);
  });

  test('Markdown and HTML carry every change, escaped', () => {
    const after = load(changed(), AFTER_DAY);
    const diff = diffConfigs(before, after, { before: 'v1', after: 'now' });
    const md = renderGovernanceMarkdown(diff);
    const html = renderGovernanceHtml(diff);
    expect(md).toMatch(/^# OneLondon Secure Data Environment: what changed in governance since v1$/m);
    expect(md).toMatch(/^## Projects extended$/m);
    expect(md).toMatch(/^- .*\\_/m); // snake_case ids are escaped, not italicised
    expect(html).toMatch(/<h2 id="s-extended">Projects extended<\/h2>/);
    expect(html).toContain('University College London&#39;s project &quot;Patterns');
    for (const c of diff.changes) expect(md.replace(/\\(.)/g, '$1')).toContain(c.text);
  });
});

describe('approvals of new and extended projects', () => {
  test('an extension without a new approval record is refused', () => {
    const files = edit(base, 'projects/ucl-multimorbidity.yaml', (d) => (d.period.end = '2030-05-31'));
    const problems = approvalChangeProblems(before, load(files, BEFORE_DAY));
    expect(problems).toEqual([
      expect.objectContaining({
        file: 'config/projects/ucl-multimorbidity.yaml',
        field: 'approval.reference',
        message: expect.stringMatching(/still DAC-2026-021, but the project is extended/),
      }),
    ]);
  });

  test('an extension approved on an earlier date than the record it replaces is refused', () => {
    const files = edit(base, 'projects/ucl-multimorbidity.yaml', (d) => {
      d.period.end = '2030-05-31';
      d.approval.reference = 'DAC-2026-099';
      d.approval.date = '2026-01-01';
    });
    expect(approvalChangeProblems(before, load(files, BEFORE_DAY)).map((p) => p.field)).toEqual(['approval.date']);
  });

  test('a new project must name the citizen members present', () => {
    const files = new Map(base).set(
      'projects/new-one.yaml',
      (base.get('projects/ncl-winter-planning.yaml') as string).replace('id: ncl-winter-planning', 'id: new-one').replace(/ {2}citizenMembers: .*\n/, ''),
    );
    const problems = approvalChangeProblems(before, load(files, BEFORE_DAY));
    expect(problems).toEqual([
      expect.objectContaining({
        file: 'config/projects/new-one.yaml',
        field: 'approval.citizenMembers',
        message: expect.stringMatching(/is missing: this project is new/),
        fix: expect.stringMatching(/citizenMembers: \[CM-01, CM-04\]/),
      }),
    ]);
  });

  test('not required when platform.yaml does not require citizen members', () => {
    let files = new Map(base).set(
      'projects/new-one.yaml',
      (base.get('projects/ncl-winter-planning.yaml') as string).replace('id: ncl-winter-planning', 'id: new-one').replace(/ {2}citizenMembers: .*\n/, ''),
    );
    files = edit(files, 'platform.yaml', (d) => (d.governance.requireCitizenMembers = false));
    expect(approvalChangeProblems(before, load(files, BEFORE_DAY))).toEqual([]);
  });
});
