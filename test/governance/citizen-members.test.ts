/** `sde validate`: approvals that name the citizen members present, and prices it can bill exactly. */
import { validateConfigFiles } from '../../lib/config/loader';
import { edit, exampleFiles } from './helpers';

const TODAY = '2026-11-22';
const base = exampleFiles();
const problemsOf = (files: Map<string, string>) => validateConfigFiles(files, 'config', { today: TODAY }).problems;

test('the example config names its citizen members and is valid', () => {
  expect(problemsOf(base)).toEqual([]);
});

test('the number present must match the members named', () => {
  const files = edit(base, 'projects/ncl-winter-planning.yaml', (d) => (d.approval.citizenMembers = ['CM-01', 'CM-03']));
  expect(problemsOf(files)).toEqual([
    {
      file: 'config/projects/ncl-winter-planning.yaml',
      field: 'approval.citizenMembersPresent',
      message: 'is 3, but approval.citizenMembers names 2',
      fix: 'make the number match the citizen members named in the minutes of the approving meeting',
    },
  ]);
});

test('a member listed twice counts once, and is refused', () => {
  const files = edit(base, 'projects/ncl-winter-planning.yaml', (d) => (d.approval.citizenMembers = ['CM-01', 'CM-03', 'CM-03']));
  expect(problemsOf(files).map((p) => [p.field, p.message])).toEqual([
    ['approval.citizenMembers[2]', '"CM-03" is listed twice'],
    ['approval.citizenMembersPresent', 'is 3, but approval.citizenMembers names 2'],
  ]);
});

test("a person's name is refused: roster references only", () => {
  const files = edit(base, 'projects/ncl-winter-planning.yaml', (d) => (d.approval.citizenMembers = ['CM-01', 'Jane Smith', 'CM-07']));
  expect(problemsOf(files)).toEqual([
    expect.objectContaining({
      file: 'config/projects/ncl-winter-planning.yaml',
      field: 'approval.citizenMembers[1]',
      message: expect.stringMatching(/roster reference such as CM-04.*not a person's name/),
    }),
  ]);
});

test('with requireNamedCitizenMembers, every active approval must name them; expired ones need not', () => {
  let files = edit(base, 'platform.yaml', (d) => (d.governance.requireNamedCitizenMembers = true));
  for (const id of ['ucl-multimorbidity', 'kcl-covid-recovery']) files = edit(files, `projects/${id}.yaml`, (d) => delete d.approval.citizenMembers);
  expect(problemsOf(files)).toEqual([
    {
      file: 'config/projects/ucl-multimorbidity.yaml',
      field: 'approval.citizenMembers',
      message: 'is missing, but platform.yaml (governance.requireNamedCitizenMembers) requires the approval to name the citizen members present',
      fix: 'list the roster references of the citizen members at the approving meeting (at least 2), e.g. citizenMembers: [CM-01, CM-04]',
    },
  ]);
});

test('prices with more decimal places than billing keeps exactly are refused, naming the field', () => {
  const files = edit(base, 'platform.yaml', (d) => (d.pricing.tiers.charity.pricePerTbScanned = 5.0000001));
  expect(problemsOf(files)).toEqual([
    {
      file: 'config/platform.yaml',
      field: 'pricing.tiers.charity.pricePerTbScanned',
      message: 'is 5.0000001: must have at most 6 decimal places',
      fix: 'round the price to at most that many decimal places',
    },
  ]);
});

test('awsUsdPerTbScanned defaults to 5', () => {
  const files = edit(base, 'platform.yaml', (d) => delete d.pricing.awsUsdPerTbScanned);
  expect(validateConfigFiles(files, 'config', { today: TODAY }).config?.platform.pricing.awsUsdPerTbScanned).toBe(5);
});
