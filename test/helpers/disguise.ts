/**
 * Identifiers in disguise, as an attacker (or a careless export) writes them: fast-check
 * arbitraries for NHS numbers, dates of birth, postcodes, e-mail addresses and phone numbers
 * with separators of every kind, Unicode digits of several scripts, invisible format
 * characters, numbers in words and glued text. And an oracle that says, independently of the
 * code under test, whether a curated value still gives the identifier away.
 *
 * Every identifier is synthetic: NHS numbers that pass Modulus 11 from the whole range (a test
 * must not depend on the 999 range being special), dates, made-up postcodes from the official
 * pattern, example.* domains, Ofcom's drama phone ranges.
 */
import fc from 'fast-check';
import { nhsNumberFromBase } from '../../lib/ingest/core/nhs-number';

/** The digit zero of scripts whose digits are Unicode Nd (contiguous 0-9). */
export const DIGIT_ZEROS = [0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xe50, 0xf20, 0x1040, 0xff10, 0x1d7ce] as const;
/** Invisible format characters (general category Cf). */
export const INVISIBLES = ['\u200b', '\u200c', '\u200d', '\u2060', '\u00ad', '\ufeff', '\u2062', '\u202a', '\u180e'] as const;
/** Separators people and programs put between groups of digits. */
export const SEPARATORS = [
  ' ',
  '  ',
  '   ',
  '-',
  '_',
  ',',
  ':',
  '.',
  '/',
  '\u2013',
  '\u2014',
  '\u2212',
  '\u2022',
  ' - ',
  ' / ',
  '\u00a0',
  '\u3000',
  '(',
  ')',
  ' x ',
  'a',
] as const;

const WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

export function inScript(text: string, zero: number): string {
  return text.replace(/[0-9]/g, (d) => String.fromCodePoint(zero + Number(d)));
}

/** Invisible characters sprinkled between characters (never inside a surrogate pair). */
const sprinkle = (text: string) =>
  fc.tuple(fc.array(fc.nat(text.length), { maxLength: 4 }), fc.constantFrom(...INVISIBLES)).map(([at, inv]) => {
    const chars = [...text];
    for (const i of [...at].sort((a, b) => b - a)) chars.splice(Math.min(i, chars.length), 0, inv);
    return chars.join('');
  });

/** Digits split into groups joined by separators. */
const grouped = (digits: string) =>
  fc
    .tuple(fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 6 }), fc.constantFrom(...SEPARATORS), fc.boolean())
    .map(([sizes, sep, mixed]) => {
      const groups: string[] = [];
      let at = 0;
      for (let k = 0; at < digits.length; k++) {
        const size = sizes[k % sizes.length];
        groups.push(digits.slice(at, at + size));
        at += size;
      }
      // Sometimes a different separator each time.
      return mixed ? groups.map((g, i) => (i === 0 ? g : `${SEPARATORS[(i * 7) % SEPARATORS.length]}${g}`)).join('') : groups.join(sep);
    });

/** A digit string in disguise: grouped, in another script, in words, with invisible characters. */
export const disguisedDigits = (digits: string) =>
  fc
    .oneof(
      { weight: 4, arbitrary: grouped(digits) },
      { weight: 1, arbitrary: fc.constantFrom(' ', '', '-').map((sep) => [...digits].map((d) => WORDS[Number(d)]).join(sep)) },
      { weight: 1, arbitrary: fc.constant(digits) },
    )
    .chain((text) => fc.tuple(fc.constant(text), fc.constantFrom(...DIGIT_ZEROS), fc.boolean()))
    .chain(([text, zero, invisible]) => {
      const scripted = inScript(text, zero);
      return invisible ? sprinkle(scripted) : fc.constant(scripted);
    });

export const nhsNumber = fc
  .integer({ min: 100_000_000, max: 999_999_999 })
  .map((base) => nhsNumberFromBase(String(base)))
  .filter((n): n is string => n !== undefined);

export interface Planted {
  readonly kind: 'nhsNumber' | 'date' | 'postcode' | 'email' | 'phone';
  /** The identifier in its plain form (what the oracle looks for). */
  readonly plain: string;
  /** How it is written in the file. */
  readonly text: string;
}

export const disguisedNhsNumber: fc.Arbitrary<Planted> = nhsNumber.chain((n) =>
  disguisedDigits(n).map((text) => ({ kind: 'nhsNumber' as const, plain: n, text })),
);

const p2 = (n: number) => String(n).padStart(2, '0');
const ordinal = (d: number) => `${d}${d % 10 === 1 && d !== 11 ? 'st' : d % 10 === 2 && d !== 12 ? 'nd' : d % 10 === 3 && d !== 13 ? 'rd' : 'th'}`;

export const birthDate = fc.date({ min: new Date('1925-01-01T00:00:00Z'), max: new Date('2020-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => ({
  y: d.getUTCFullYear(),
  m: d.getUTCMonth() + 1,
  d: d.getUTCDate(),
}));

export const disguisedDate: fc.Arbitrary<Planted> = birthDate.chain(({ y, m, d }) => {
  const iso = `${y}-${p2(m)}-${p2(d)}`;
  const month = MONTHS[m - 1];
  const numeric = fc.constantFrom(`${y}${p2(m)}${p2(d)}`, `${p2(d)}${p2(m)}${y}`).chain((digits) => disguisedDigits(digits));
  const separated = fc
    .tuple(fc.constantFrom(' ', '/', '.', '-', '_', ' / ', '  '), fc.constantFrom(...DIGIT_ZEROS), fc.integer({ min: 0, max: 2 }))
    .map(([sep, zero, form]) => inScript([`${p2(d)}${sep}${p2(m)}${sep}${y}`, `${y}${sep}${p2(m)}${sep}${p2(d)}`, `${d}${sep}${m}${sep}${y}`][form], zero));
  const written = fc.constantFrom(
    `${month.slice(0, 3)}-${p2(d)}-${y}`,
    `${ordinal(d)} day of ${month} ${y}`,
    `${y} ${month} ${d}`,
    `${month} ${ordinal(d)}, ${y}`,
    `${d} ${month.toUpperCase()} ${y}`,
    `${p2(d)}${month.slice(0, 3).toUpperCase()}${y}`,
    `the ${ordinal(d)} of ${month.toLowerCase()} ${y}`,
  );
  return fc.oneof(numeric, separated, written).map((text) => ({ kind: 'date' as const, plain: iso, text }));
});

const L = 'ABDEFGHJLNPQRSTUWXYZ';
export const postcode = fc
  .tuple(
    fc.constantFrom('SE5', 'N1', 'NW10', 'E14', 'SW1A', 'WC1N', 'EC1V', 'W1A', 'CR0', 'M1', 'B33', 'L8', 'BS1', 'G12'),
    fc.integer({ min: 0, max: 9 }),
    fc.constantFrom(...L),
    fc.constantFrom(...L),
  )
  .map(([o, d, a, b]) => `${o} ${d}${a}${b}`);

export const disguisedPostcode: fc.Arbitrary<Planted> = postcode.chain((pc) => {
  const [out, inward] = pc.split(' ');
  return fc
    .oneof(
      fc.constantFrom('-', '_', '.', '', ' ', '  ', ' - ', '\u2013', '/').map((sep) => `${out}${sep}${inward}`),
      fc.constant([...`${out}${inward}`].join(' ')),
      fc.constant(`${out}${inward}`.toLowerCase()),
      fc.constant(`${out}\u200b${inward}`),
      fc.constant(`${out}${inward}`.replace(/[A-Z]/g, (c) => String.fromCodePoint(0xff21 + c.charCodeAt(0) - 65))),
    )
    .map((text) => ({ kind: 'postcode' as const, plain: pc, text }));
});

export const disguisedEmail: fc.Arbitrary<Planted> = fc
  .tuple(
    fc.constantFrom('jo.bloggs', 'amara', 'p.okafor', 'test1'),
    fc.constantFrom('example', 'examplemail', 'nhs-example'),
    fc.constantFrom('com', 'net', 'org.uk'),
  )
  .chain(([local, host, tld]) =>
    fc
      .constantFrom(
        `${local}@${host}.${tld}`,
        `${local} @ ${host}.${tld}`,
        `${local}(at)${host}.${tld}`,
        `${local} [at] ${host} [dot] ${tld}`,
        `${local} at ${host} dot ${tld.replace('.', ' dot ')}`,
        `${local}@${host}`,
        `${local}\uff20${host}.${tld}`,
      )
      .map((text) => ({ kind: 'email' as const, plain: `${local}@${host}.${tld}`, text })),
  );

export const disguisedPhone: fc.Arbitrary<Planted> = fc
  .tuple(fc.constantFrom('20 7946 0', '113 496 0', '161 496 0', '7700 900'), fc.integer({ min: 0, max: 999 }))
  .chain(([prefix, n]) => {
    const national = `${prefix}${String(n).padStart(3, '0')}`.replace(/ /g, '');
    const [area, ...rest] = `${prefix}${String(n).padStart(3, '0')}`.split(' ');
    const tail = rest.join(' ');
    return fc
      .constantFrom(
        `(0${area}) ${tail}`,
        `0${area}  ${tail.replace(' ', '   ')}`,
        `+44 (${area}) ${tail}`,
        `+44 (0)${area} ${tail}`,
        `0044 ${area} ${tail}`,
        `0${national}`,
        `0${area}-${tail.replace(' ', '-')}`,
      )
      .map((text) => ({ kind: 'phone' as const, plain: national, text }));
  });

export const disguisedIdentifier: fc.Arbitrary<Planted> = fc.oneof(disguisedNhsNumber, disguisedDate, disguisedPostcode, disguisedEmail, disguisedPhone);

/** Glued onto text or not. */
export const glued = (planted: fc.Arbitrary<Planted>) =>
  fc
    .tuple(fc.constantFrom('', '', 'x', 'Ref', 'pt ', 'DOB: ', 'A1', '7', 'seen '), planted, fc.constantFrom('', '', 'x', ' ok', '9', '.'))
    .map(([before, p, after]) => ({ ...p, text: `${before}${p.text}${after}` }));

// ---------------------------------------------------------------------------------------
// The oracle: written here from the identifiers' definitions, not from the code under test.
// ---------------------------------------------------------------------------------------

/** A value as a reader would see it: compatibility forms folded, invisible characters gone, digits of any script as ASCII. */
export function readAsPerson(value: string): string {
  let s = value.normalize('NFKC').replace(/[\p{Cf}\p{Default_Ignorable_Code_Point}]/gu, '');
  s = s.replace(/\p{Nd}/gu, (c) => {
    const cp = c.codePointAt(0)!;
    for (const zero of DIGIT_ZEROS) if (cp >= zero && cp < zero + 10) return String(cp - zero);
    return c;
  });
  // Number words read as digits.
  return s.replace(/zero|one|two|three|four|five|six|seven|eight|nine/gi, (w) => String(WORDS.indexOf(w.toLowerCase())));
}

const digitsOf = (value: string) => readAsPerson(value).replace(/\D/g, '');

function passesModulus11(ten: string): boolean {
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(ten[i]) * (10 - i);
  const check = 11 - (sum % 11);
  return check !== 10 && (check === 11 ? 0 : check) === Number(ten[9]);
}

/** Any ten consecutive digits of the value (read through everything else) that pass the NHS number check. */
export function holdsAnyNhsNumber(value: string): boolean {
  const d = digitsOf(value);
  for (let i = 0; i + 10 <= d.length; i++) if (passesModulus11(d.slice(i, i + 10))) return true;
  return false;
}

/** Whether a curated value still gives the planted identifier away. */
export function givesAway(value: string, planted: Planted): boolean {
  const read = readAsPerson(value);
  const digits = read.replace(/\D/g, '');
  const compact = read.replace(/[^\p{L}\p{N}]/gu, '').toUpperCase();
  switch (planted.kind) {
    case 'nhsNumber':
      return digits.includes(planted.plain);
    case 'phone':
      return digits.includes(planted.plain);
    case 'postcode':
      return compact.includes(planted.plain.replace(' ', ''));
    case 'email': {
      const [local, domain] = planted.plain.split('@');
      return read.toLowerCase().includes(local) && read.toLowerCase().includes(domain.split('.')[0]);
    }
    case 'date': {
      const [y, m, d] = planted.plain.split('-');
      if ([`${y}${m}${d}`, `${d}${m}${y}`, `${m}${d}${y}`].some((f) => digits.includes(f))) return true;
      const month = MONTHS[Number(m) - 1].toLowerCase();
      const lower = read.toLowerCase();
      const hasMonth = lower.includes(month.slice(0, 3));
      const numbers = (lower.match(/\d+/g) ?? []).map(Number);
      return hasMonth && numbers.includes(Number(d)) && numbers.includes(Number(y));
    }
  }
}
