/**
 * Free-text scrubber benchmark (not part of the test suite):
 *
 *   npm run bench:scrub
 *
 * Builds a seeded corpus of clinical notes: each a few sentences of clinical text (doses,
 * measurements, codes, times, drug and disease names, ward numbers, months) with identifiers
 * planted in them, of every kind and in disguise (test/helpers/disguise.ts: NHS numbers,
 * dates of birth, postcodes, e-mail addresses, phone numbers with separators of every kind,
 * other scripts' digits, invisible characters, words, glued text; and names, after a title
 * or bare). Scrubs each note and prints one JSON line:
 *   planted_removed: the share of planted identifiers no longer readable in the output (by
 *     the tests' independent oracle; a name counts as removed when it is gone), by kind;
 *   clinical_kept: the share of clinical tokens still in the output word for word,
 *     and the tokens lost most often.
 */
import fc from 'fast-check';
import { scrubFreeText } from '../lib/ingest/core/scrub-free-text';
import { disguisedDate, disguisedEmail, disguisedNhsNumber, disguisedPhone, disguisedPostcode, givesAway, glued, Planted } from '../test/helpers/disguise';
import { arg, runBench } from './ingest-input';

/** Clinical tokens that must survive scrubbing (what researchers use free text for). */
const CLINICAL = [
  '500mg',
  '2.5ml',
  '5 mg',
  '10 mg',
  '40mg',
  '250mg/5ml',
  'BP 120/80',
  'HR 72',
  'SpO2 96%',
  'Temp 37.5',
  'HbA1c 48',
  'mmol/mol',
  'eGFR 60',
  'BMI 31.2',
  'I10X',
  'E11.9',
  'J44.9',
  'T2DM',
  'COPD',
  'AF',
  '10:30',
  '08:00',
  'x3 daily',
  '1-2 tablets',
  'every 4-6 hours',
  'for 7 days',
  'in 6 weeks',
  'April 2025',
  'March',
  'Ward 5',
  'Bed 12',
  'Bay 3',
  'B12',
  'vitamin D',
  'Week 12',
  'Amoxicillin',
  'Paracetamol',
  'metformin',
  'furosemide',
  'atorvastatin',
  "Parkinson's disease",
  "Crohn's disease",
  "Bell's palsy",
  'Down syndrome',
  'heart failure',
  'chest pain',
  'shortness of breath',
  'reviewed',
  'discharged home',
  'follow-up',
];
const TEMPLATES = [
  'Pt seen in clinic. {c} noted, {c} and {c}. Plan: {c}. {id}',
  '{id} Reviewed on {c}; {c} stable. Continue {c} {c}, review {c}.',
  'Admitted with {c}. {c} on arrival, {c}. Started {c} {c}. {id} Discharge plan {c}.',
  '{c} {c}. Contact {id} if worse. {c}.',
  'Repeat {c} {c}; {c} for {c}. {id}',
];
const TITLES = ['Dr', 'Mr', 'Mrs', 'Ms', 'Miss', 'Prof', 'Sister', 'Nurse'];
/** Made-up family names (not from the scrubber's lists). */
const FAMILY = ['Okafor', 'Adeyemi', 'Brennan', 'Kowalczyk', 'Haddad', 'Lindqvist', 'Moreau', 'Tanaka', 'Ferreira', 'Novak'];
const GIVEN = ['Amara', 'Oliver', 'Priya', 'George', 'Sophie', 'Mohammed', 'Isla', 'Jack', 'Grace', 'Leo'];

type PlantedAny = Planted | { kind: 'name'; plain: string; text: string };

const name: fc.Arbitrary<PlantedAny> = fc.oneof(
  fc.tuple(fc.constantFrom(...TITLES), fc.constantFrom(...FAMILY)).map(([t, f]) => ({ kind: 'name' as const, plain: f, text: `${t} ${f}` })),
  fc.tuple(fc.constantFrom(...GIVEN), fc.constantFrom(...FAMILY)).map(([g, f]) => ({ kind: 'name' as const, plain: `${g} ${f}`, text: `spoke to ${g} ${f}` })),
  fc.constantFrom(...FAMILY).map((f) => ({ kind: 'name' as const, plain: f, text: `letter to ${f}` })),
);
const planted: fc.Arbitrary<PlantedAny> = fc.oneof(
  glued(disguisedNhsNumber),
  glued(disguisedDate),
  glued(disguisedPostcode),
  glued(disguisedEmail),
  glued(disguisedPhone),
  name,
);
const note = fc.record({
  template: fc.constantFrom(...TEMPLATES),
  clinical: fc.array(fc.constantFrom(...CLINICAL), { minLength: 12, maxLength: 12 }),
  ids: fc.array(planted, { minLength: 1, maxLength: 3 }),
});

function nameGone(out: string, p: PlantedAny): boolean {
  return p.plain.split(' ').every((part) => !out.includes(part));
}

async function main(): Promise<void> {
  const count = Number(arg('notes', '3000'));
  const seed = Number(arg('seed', '20261206'));
  const notes = fc.sample(note, { numRuns: count, seed });
  const byKind: Record<string, { planted: number; removed: number }> = {};
  const lost = new Map<string, number>();
  let clinicalTotal = 0;
  let clinicalKept = 0;
  let chars = 0;
  const t0 = process.hrtime.bigint();
  for (const n of notes) {
    let c = 0;
    let k = 0;
    const used: string[] = [];
    const text = n.template
      .replace(/\{c\}/g, () => {
        const token = n.clinical[c++ % n.clinical.length];
        used.push(token);
        return token;
      })
      .replace(/\{id\}/g, () => n.ids.map((p) => p.text).join(' and ') + (k++ > 0 ? '' : ''));
    chars += text.length;
    const out = scrubFreeText(text);
    for (const p of n.ids) {
      const entry = (byKind[p.kind] ??= { planted: 0, removed: 0 });
      entry.planted++;
      const removed = p.kind === 'name' ? nameGone(out, p) : !givesAway(out, p as Planted);
      if (removed) entry.removed++;
    }
    for (const token of used) {
      clinicalTotal++;
      if (out.includes(token)) clinicalKept++;
      else lost.set(token, (lost.get(token) ?? 0) + 1);
    }
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const planted = Object.values(byKind).reduce((s, v) => s + v.planted, 0);
  const removed = Object.values(byKind).reduce((s, v) => s + v.removed, 0);
  const line = {
    notes: notes.length,
    planted,
    planted_removed: Number((removed / planted).toFixed(4)),
    planted_removed_by_kind: Object.fromEntries(Object.entries(byKind).map(([kind, v]) => [kind, Number((v.removed / v.planted).toFixed(4))])),
    clinical_tokens: clinicalTotal,
    clinical_kept: Number((clinicalKept / clinicalTotal).toFixed(4)),
    clinical_lost_most: Object.fromEntries([...lost].sort((a, b) => b[1] - a[1]).slice(0, 6)),
    mb_per_s: Number((chars / 1e6 / seconds).toFixed(2)),
    seed,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

runBench(main);
