/**
 * Building blocks of the synthetic population: a seeded random generator and small lists
 * of realistic, NHS-shaped code values. Nothing here is, or is derived from, a real person.
 */
import { nhsNumberFromBase } from '../../lambdas/core/nhs-number';

/** sfc32-style PRNG via mulberry32: fast, seedable, and the same sequence on every machine. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** A float in [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(min: number, maxInclusive: number): number {
    return min + Math.floor(this.next() * (maxInclusive - min + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

/**
 * A valid NHS number from the 999 range, which is never issued to patients. Consecutive
 * indices give distinct numbers; indices whose check digit would be 10 are skipped.
 */
export function syntheticNhsNumber(index: number): string {
  for (let i = index; ; i += 1_000_000) {
    const candidate = nhsNumberFromBase(`999${String(i % 1_000_000).padStart(6, '0')}`);
    if (candidate) return candidate;
  }
}

/** Distinct synthetic NHS numbers for `count` people (the 999 range holds ~909,000 valid ones). */
export function syntheticNhsNumbers(count: number): string[] {
  const out: string[] = [];
  for (let base = 0; out.length < count; base++) {
    if (base >= 1_000_000) throw new Error(`the 999 test range holds fewer than ${count} valid NHS numbers`);
    const n = nhsNumberFromBase(`999${String(base).padStart(6, '0')}`);
    if (n) out.push(n);
  }
  return out;
}

export const GIVEN_NAMES = ['Amara', 'Ben', 'Chloe', 'Dev', 'Ella', 'Femi', 'Grace', 'Hamza', 'Isla', 'Jamal', 'Kiran', 'Leah', 'Mo', 'Nia', 'Oscar', 'Priya', 'Quinn', 'Rosa', 'Sami', 'Tara', 'Umar', 'Vera', 'Wes', 'Yara', 'Zac'];
export const FAMILY_NAMES = ['Adeyemi', 'Brown', 'Chowdhury', 'Davies', 'Evans', 'Fernandes', 'Green', 'Hussain', 'Ivanova', 'Jones', 'Khan', 'Lopez', 'Murphy', 'Nguyen', 'Okafor', 'Patel', 'Quinn', 'Roberts', 'Smith', 'Taylor', 'Usman', 'Walsh', 'Yilmaz', 'Zhang'];
export const STREETS = ['Example Road', 'Sample Street', 'Test Lane', 'Placeholder Avenue', 'Fictional Close', 'Synthetic Way'];

/** London postcode districts; the inward part is generated. */
export const POSTCODE_DISTRICTS = ['N1', 'N7', 'N15', 'NW1', 'NW5', 'NW10', 'E1', 'E8', 'E14', 'E17', 'SE1', 'SE5', 'SE15', 'SE18', 'SW2', 'SW9', 'SW17', 'W2', 'W10', 'WC1N', 'EC1V', 'HA0', 'CR0', 'BR1', 'IG1', 'EN1', 'TW3', 'UB3', 'KT1', 'SM1', 'DA1', 'RM1'];
const INWARD_LETTERS = 'ABDEFGHJLNPQRSTUWXYZ';

export function syntheticPostcode(random: Random): string {
  return `${random.pick(POSTCODE_DISTRICTS)} ${random.int(0, 9)}${random.pick([...INWARD_LETTERS])}${random.pick([...INWARD_LETTERS])}`;
}

/** London LSOA 2021 codes run from E01000001; a few thousand are enough for realism. */
export function syntheticLsoa(random: Random): string {
  return `E01${String(random.int(1, 4999)).padStart(6, '0')}`;
}

export const GP_PRACTICES = ['F83001', 'F83004', 'F83010', 'E83003', 'E83016', 'F85002', 'F85019', 'G85001', 'G85011', 'H85003', 'H85020', 'E87002', 'E87016', 'F84003', 'F84021', 'Y03049'];
export const TRUSTS = ['RAL', 'RAP', 'RKE', 'RRV', 'RJ1', 'RYJ', 'R1H', 'RJZ', 'RQM', 'RAS'];
export const ETHNIC_CATEGORIES = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'J', 'K', 'L', 'M', 'N', 'P', 'R', 'S', 'Z'];
export const ADMISSION_METHODS = ['11', '12', '13', '21', '22', '23', '24', '25', '28'];
export const ICD10 = ['I10X', 'E119', 'J449', 'I500', 'N390', 'J189', 'K359', 'S720', 'I214', 'F329', 'C509', 'E669', 'I480', 'J459', 'M179'];
export const OPCS4 = ['W371', 'H011', 'K401', 'Q072', 'W401', 'M421', 'T201', 'X403', 'A651', 'C751'];
export const SNOMED = ['38341003', '44054006', '195967001', '13645005', '35489007', '271649006', '27113001', '60621009', '49436004', '73211009'];
export const MEASUREMENT_UNITS = ['mmHg', 'kg', 'kg/m2', 'mmol/L', 'mmol/mol', ''];
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
];
export const DOSAGES = ['One tablet daily', 'One tablet twice a day', 'Two puffs when required', 'Take as directed', 'One capsule at night'];

/** Ofcom reserves 020 7946 0000-0999 for drama: numbers that can never reach anyone. */
export function syntheticPhone(random: Random): string {
  return `020 7946 0${String(random.int(0, 999)).padStart(3, '0')}`;
}

const DAY_MS = 86_400_000;

export function isoDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

export function randomDate(random: Random, from: string, to: string): string {
  const a = Date.parse(from);
  const b = Date.parse(to);
  return isoDate(a + random.int(0, Math.floor((b - a) / DAY_MS)) * DAY_MS);
}

export function addDays(date: string, days: number): string {
  return isoDate(Date.parse(date) + days * DAY_MS);
}
