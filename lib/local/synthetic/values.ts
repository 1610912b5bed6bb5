/**
 * Building blocks of the synthetic population: a seeded random generator and small lists
 * of realistic, NHS-shaped code values. Nothing here is, or is derived from, a real person.
 */
import { nhsNumberFromBase } from '../../ingest/core/nhs-number';

// Module-level aliases: under jest, code runs in a vm context where every global lookup
// (Math, ...) goes through an interceptor, which made the per-value arithmetic here ~50x slower.
const { floor, imul } = Math;

/**
 * mulberry32: a tiny 32-bit PRNG. Seeded, so the same seed gives the same population on
 * every machine and Node version (Math.random can be neither seeded nor replayed).
 */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, maxInclusive: number): number {
    return min + floor(this.next() * (maxInclusive - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[floor(this.next() * items.length)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** FNV-1a: a stable 32-bit number for a string (e.g. a per-dataset random stream). */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

/** The 999 range (999 000 0000 - 999 999 9999) is reserved for testing: never issued to a patient. */
export const SYNTHETIC_NHS_PREFIX = '999';
const RANGE_SIZE = 1_000_000;

/**
 * Valid NHS numbers from the 999 test range, in order: 9990000018, 9990000026, ... Bases
 * whose check digit would be 10 have no valid number and are skipped (about 1 in 11), so
 * the range holds about 909,000 people.
 */
export function* syntheticNhsNumbers(): Generator<string> {
  for (let base = 0; base < RANGE_SIZE; base++) {
    const n = nhsNumberFromBase(`${SYNTHETIC_NHS_PREFIX}${String(base).padStart(6, '0')}`);
    if (n) yield n;
  }
}

/** How many valid numbers the 999 test range holds (a test counts them). */
export const SYNTHETIC_NHS_CAPACITY = 909_091;

/** `9990000018` -> `999 000 0018`, the way people write it. */
export function spacedNhsNumber(n: string): string {
  return `${n.slice(0, 3)} ${n.slice(3, 6)} ${n.slice(6)}`;
}

export const GIVEN_NAMES = [
  'Amara',
  'Ben',
  'Chloe',
  'Dev',
  'Ella',
  'Femi',
  'Grace',
  'Hamza',
  'Isla',
  'Jamal',
  'Kiran',
  'Leah',
  'Mo',
  'Nia',
  'Oscar',
  'Priya',
  'Quinn',
  'Rosa',
  'Sami',
  'Tara',
  'Umar',
  'Vera',
  'Wes',
  'Yara',
  'Zac',
];
export const FAMILY_NAMES = [
  'Adeyemi',
  'Brown',
  'Chowdhury',
  'Davies',
  'Evans',
  'Fernandes',
  'Green',
  'Hussain',
  'Ivanova',
  'Jones',
  'Khan',
  'Lopez',
  'Murphy',
  'Nguyen',
  'Okafor',
  'Patel',
  'Quinn',
  'Roberts',
  'Smith',
  'Taylor',
  'Usman',
  'Walsh',
  'Yilmaz',
  'Zhang',
];
/** Street names that announce themselves as made up. */
export const STREETS = ['Example Road', 'Sample Street', 'Test Lane', 'Placeholder Avenue', 'Fictional Close', 'Synthetic Way'];

/** London postcode districts; the inward part (digit + two letters) is generated. */
export const POSTCODE_DISTRICTS = [
  'N1',
  'N7',
  'N15',
  'NW1',
  'NW5',
  'NW10',
  'E1',
  'E8',
  'E14',
  'E17',
  'SE1',
  'SE5',
  'SE15',
  'SE18',
  'SW2',
  'SW9',
  'SW17',
  'W2',
  'W10',
  'WC1N',
  'EC1V',
  'HA0',
  'CR0',
  'BR1',
  'IG1',
  'EN1',
  'TW3',
  'UB3',
  'KT1',
  'SM1',
  'DA1',
  'RM1',
];
/** Letters used in the inward code (C, I, K, M, O and V never are). */
const INWARD_LETTERS = [...'ABDEFGHJLNPQRSTUWXYZ'];

export function syntheticPostcode(random: Random): string {
  return `${random.pick(POSTCODE_DISTRICTS)} ${random.int(0, 9)}${random.pick(INWARD_LETTERS)}${random.pick(INWARD_LETTERS)}`;
}

/** LSOA codes are E01 + six digits; London's start at E01000001. */
export function syntheticLsoa(random: Random): string {
  return `E01${String(random.int(1, 4765)).padStart(6, '0')}`;
}

/** An MSOA code shaped like England's (E02 and six digits). */
export function syntheticMsoa(random: Random): string {
  return `E02${String(random.int(1, 6791)).padStart(6, '0')}`;
}

/** Codes shaped like ODS GP practice codes (letter, two digits, three digits). */
export const GP_PRACTICES = [
  'F83001',
  'F83004',
  'F83010',
  'E83003',
  'E83016',
  'F85002',
  'F85019',
  'G85001',
  'G85011',
  'H85003',
  'H85020',
  'E87002',
  'E87016',
  'F84003',
  'F84021',
  'Y03049',
];
/** Three-character ODS codes of London acute trusts (organisations, not people). */
export const TRUSTS = ['RAL', 'RAP', 'RKE', 'RRV', 'RJ1', 'RYJ', 'R1H', 'RJZ', 'RQM', 'RAS'];
/** NHS Data Dictionary ethnic category codes (Z: not stated). */
export const ETHNIC_CATEGORIES = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L', 'M', 'N', 'P', 'R', 'S', 'Z'];
/** HES admission methods: 11-13 elective, 21-28 emergency. */
export const ADMISSION_METHODS = ['11', '12', '13', '21', '22', '23', '24', '25', '28'];
/** ICD-10 as HES writes it: four characters, X filling a three-character code. */
export const ICD10 = ['I10X', 'E119', 'J449', 'I500', 'N390', 'J189', 'K359', 'S720', 'I214', 'F329', 'C509', 'E669', 'I480', 'J459', 'M179'];
export const OPCS4 = ['W371', 'H011', 'K401', 'Q072', 'W401', 'M421', 'T201', 'X403', 'A651', 'C751'];
/** Adult social care primary support reasons (SALT return categories). */
export const SUPPORT_REASONS = [
  'Physical Support: Access and mobility only',
  'Physical Support: Personal care support',
  'Sensory Support: Support for visual impairment',
  'Support with Memory and Cognition',
  'Learning Disability Support',
  'Mental Health Support',
  'Social Support: Support for social isolation/other',
];

/**
 * GP events: SNOMED CT concepts, with the unit and plausible range when the event is a
 * measurement, so `value` and `unit` agree with the code (a blood pressure in mmHg, a
 * diagnosis with no value).
 */
export interface Observation {
  readonly code: string;
  readonly unit?: string;
  readonly range?: readonly [number, number];
  readonly decimals?: number;
}
export const OBSERVATIONS: readonly Observation[] = [
  { code: '38341003' }, // hypertensive disorder
  { code: '44054006' }, // type 2 diabetes mellitus
  { code: '195967001' }, // asthma
  { code: '13645005' }, // chronic obstructive lung disease
  { code: '35489007' }, // depressive disorder
  { code: '49436004' }, // atrial fibrillation
  { code: '271649006', unit: 'mmHg', range: [95, 185], decimals: 0 }, // systolic blood pressure
  { code: '271650006', unit: 'mmHg', range: [55, 110], decimals: 0 }, // diastolic blood pressure
  { code: '27113001', unit: 'kg', range: [40, 140], decimals: 1 }, // body weight
  { code: '60621009', unit: 'kg/m2', range: [16, 45], decimals: 1 }, // body mass index
  { code: '43396009', unit: 'mmol/mol', range: [30, 110], decimals: 0 }, // haemoglobin A1c measurement
  { code: '77068002', unit: 'mmol/L', range: [3, 8.5], decimals: 1 }, // cholesterol measurement
];
export const MEASUREMENT_UNITS = ['mmHg', 'kg', 'kg/m2', 'mmol/L', 'mmol/mol'];

/** BNF presentation codes with the medicine they name. */
export const MEDICINES: readonly { bnf: string; name: string }[] = [
  { bnf: '0208020Z0AAAAAA', name: 'Apixaban 5mg tablets' },
  { bnf: '0208020Y0AAAAAA', name: 'Rivaroxaban 20mg tablets' },
  { bnf: '0208020V0AAAAAA', name: 'Warfarin 1mg tablets' },
  { bnf: '0212000B0AAABAB', name: 'Atorvastatin 20mg tablets' },
  { bnf: '0601022B0AAABAB', name: 'Metformin 500mg tablets' },
  { bnf: '0205051R0AAAAAA', name: 'Ramipril 5mg capsules' },
  { bnf: '0403030Q0AAAAAA', name: 'Sertraline 50mg tablets' },
  { bnf: '0301011R0AAAPAP', name: 'Salbutamol 100micrograms/dose inhaler' },
  { bnf: '0407010H0AAAMAM', name: 'Paracetamol 500mg tablets' },
  { bnf: '0206020A0AAAAAA', name: 'Amlodipine 5mg tablets' },
];
export const NOTES = [
  'Reviewed in clinic, plan discussed.',
  'Symptoms improving; continue current treatment.',
  'Follow-up arranged in six weeks.',
  'Discharged home with community support.',
  'Referred for further tests.',
  'Medication reviewed, no changes.',
];
export const DOSAGES = ['One tablet daily', 'One tablet twice a day', 'Two puffs when required', 'Take as directed', 'One capsule at night'];

/** Ofcom reserves 020 7946 0000-0999 for drama: numbers that can never reach anyone. */
export function syntheticPhone(random: Random): string {
  return `020 7946 0${String(random.int(0, 999)).padStart(3, '0')}`;
}

/**
 * Dates as day numbers (days since 1970-01-01), converted by arithmetic: the generator
 * handles several dates per row, and going through Date objects and toISOString was
 * most of its running time. Civil-from-days after Howard Hinnant's public-domain
 * algorithms (proleptic Gregorian calendar, UTC).
 */
export function dayNumber(date: string): number {
  let y = Number(date.slice(0, 4));
  const m = Number(date.slice(5, 7));
  const d = Number(date.slice(8, 10));
  y -= m <= 2 ? 1 : 0;
  const era = floor(y / 400);
  const yoe = y - era * 400;
  const doy = floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function dateOfDay(day: number): string {
  const z = day + 719468;
  const era = floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = floor((doe - floor(doe / 1460) + floor(doe / 36524) - floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + floor(yoe / 4) - floor(yoe / 100));
  const mp = floor((5 * doy + 2) / 153);
  const d = doy - floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  const y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return `${String(y).padStart(4, '0')}-${m < 10 ? '0' : ''}${m}-${d < 10 ? '0' : ''}${d}`;
}

/** A day from `from` to `to` inclusive (YYYY-MM-DD); `from` when the range is empty. */
export function randomDate(random: Random, from: string, to: string): string {
  const a = dayNumber(from);
  const b = dayNumber(to);
  return b <= a ? from : dateOfDay(random.int(a, b));
}

export function addDays(date: string, days: number): string {
  return dateOfDay(dayNumber(date) + days);
}

/** The same calendar day `years` later (29 February becomes 1 March). */
export function addYears(date: string, years: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCFullYear(d.getUTCFullYear() + years);
  return d.toISOString().slice(0, 10);
}

/** Whole years from `from` to `to` (age on a day). */
export function yearsBetween(from: string, to: string): number {
  const age = Number(to.slice(0, 4)) - Number(from.slice(0, 4));
  return to.slice(5) < from.slice(5) ? age - 1 : age;
}

export const minDate = (a: string, b: string): string => (a < b ? a : b);
export const maxDate = (a: string, b: string): string => (a > b ? a : b);
