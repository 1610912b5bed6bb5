import fc from 'fast-check';
import { scrubFreeText } from '../../../lib/ingest/core/scrub-free-text';
import { isValidNhsNumber } from '../../../lib/ingest/core/nhs-number';
import { testNhsNumber } from './datasets';

// Every identifier below is synthetic: NHS numbers from the 999 test range, phone numbers
// from Ofcom's drama ranges, e-mail addresses at example domains.
describe('scrubFreeText', () => {
  test.each([
    ['NHS number, bare', 'NHS no 9990000018 seen', 'NHS no [NHS_NUMBER] seen'],
    ['NHS number, spaced 3-3-4', 'nhs: 999 000 0018.', 'nhs: [NHS_NUMBER].'],
    ['NHS number, hyphenated', '(999-000-0018)', '([NHS_NUMBER])'],
    ['NHS number glued to letters', 'ID9990000018x', 'ID[NHS_NUMBER]x'],
    ['NHS number in an odd grouping', 'no 99 900 000 18', 'no [NHS_NUMBER]'],
    ['date dd/mm/yyyy', 'DOB 03/04/1961', 'DOB [DATE]'],
    ['date d/m/yy', 'seen 3/4/61', 'seen [DATE]'],
    ['date dd-mm-yyyy', 'on 03-04-1961', 'on [DATE]'],
    ['date dd.mm.yyyy', 'on 03.04.1961', 'on [DATE]'],
    ['date yyyy-mm-dd', 'born 1961-04-03 in', 'born [DATE] in'],
    ['date yyyy/mm/dd', 'born 1961/04/03', 'born [DATE]'],
    ['date d Month yyyy', 'born 3 April 1961', 'born [DATE]'],
    ['date dth of Month, yyyy', 'born 3rd of April, 1961', 'born [DATE]'],
    ['date dd-MON-yy', 'born 03-APR-61', 'born [DATE]'],
    ['date Month d, yyyy', 'born April 3, 1961', 'born [DATE]'],
    ['date Mon dth yyyy', 'born Apr 3rd 1961', 'born [DATE]'],
    ['postcode', 'lives SE5 8AF now', 'lives [POSTCODE] now'],
    ['postcode, lower case, no space', 'lives se58af', 'lives [POSTCODE]'],
    ['postcode, long form', 'at SW1A 1AA.', 'at [POSTCODE].'],
    ['phone, London', 'call 020 7946 0123', 'call [PHONE]'],
    ['phone, bracketed area code', 'call (020) 7946 0123', 'call [PHONE]'],
    ['phone, mobile', 'mob 07700 900123', 'mob [PHONE]'],
    ['phone, +44', 'tel +44 20 7946 0123', 'tel [PHONE]'],
    ['phone, +44 (0)', 'tel +44 (0)20 7946 0123', 'tel [PHONE]'],
    ['phone, 0044 mobile', 'tel 0044 7700 900 123', 'tel [PHONE]'],
    ['phone, bare', 'tel 01632960123', 'tel [PHONE]'],
    ['e-mail', 'mail test.person+nhs@example.org.uk ok', 'mail [EMAIL] ok'],
    ['several at once', 'Pt 999 000 0018, DOB 3/4/1961, SE5 8AF, 07700 900123, a@example.com', 'Pt [NHS_NUMBER], DOB [DATE], [POSTCODE], [PHONE], [EMAIL]'],
    ['full-width digits', 'NHS ９９９０００００１８', 'NHS [NHS_NUMBER]'],
    // Glued to other digits, the whole run goes: six or more digits read through separators.
    ['date glued to a digit', 'ref51961-04-03', 'ref[DATE]'],
    ['date glued to digits on both sides', 'x103/04/19611', 'x[DATE]'],
    ['written date glued to a letter', 'bornx3 April 1961', 'bornx[DATE]'],
    ['written date, month first, glued to a word', 'seenApril 3, 1961', 'seen[DATE]'],
    ['postcode glued to a word', 'livesSE5 8AF', 'lives[POSTCODE]'],
    ['postcode glued to a word, lower case', 'livesse5 8af', 'lives[POSTCODE]'],
    ['postcode glued to a word, capitals, no space', 'WARDSE58AF', 'WARD[POSTCODE]'],
  ])('%s', (_name, text, scrubbed) => {
    expect(scrubFreeText(text)).toBe(scrubbed);
  });

  test.each([
    'One tablet twice a day',
    'Take 2 x 5ml spoonfuls',
    'Two puffs when required',
    'Dose 2.5mg at 8am',
    'BP 120/80, HR 72',
    'Follow-up in 6 weeks',
    'Room 12, ward 3',
    'Paracetamol 500mg tablets',
    'paracetamol500mg twice daily',
    'Amoxicillin 250mg/5ml oral suspension',
  ])('leaves ordinary clinical text alone: %s', (text) => {
    expect(scrubFreeText(text)).toBe(text);
  });
});

describe('scrubFreeText properties', () => {
  const filler = fc.constantFrom(
    'seen',
    'in',
    'clinic',
    'pt',
    'DOB',
    'lives',
    'at',
    'tel',
    'NHS',
    'no.',
    'Dr',
    ',',
    '-',
    '(',
    ')',
    'and',
    'review',
    'x2',
    '5mg',
  );
  const nhs = fc.integer({ min: 0, max: 999_999 }).map(testNhsNumber);
  const nhsWritten = fc.tuple(nhs, fc.constantFrom('', ' ', '-')).map(([n, sep]) => `${n.slice(0, 3)}${sep}${n.slice(3, 6)}${sep}${n.slice(6)}`);
  const day = fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2026-12-31T00:00:00Z'), noInvalidDate: true });
  const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
  const dateWritten = fc.tuple(day, fc.integer({ min: 0, max: 5 })).map(([d, form]) => {
    const [y, m, dd] = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
    const p2 = (n: number) => String(n).padStart(2, '0');
    return [
      `${p2(dd)}/${p2(m)}/${y}`,
      `${y}-${p2(m)}-${p2(dd)}`,
      `${dd} ${MONTHS[m - 1]} ${y}`,
      `${dd}-${MONTHS[m - 1].slice(0, 3)}-${y}`,
      `${MONTHS[m - 1]} ${dd}, ${y}`,
      `${dd}.${m}.${y}`,
    ][form];
  });
  const outward = fc.constantFrom('SE5', 'N1', 'NW10', 'E14', 'SW1A', 'WC1N', 'EC1V', 'W1A', 'CR0', 'M1', 'B33');
  const inward = fc
    .tuple(fc.integer({ min: 0, max: 9 }), fc.constantFrom(...'ABDEFGHJLNPQRSTUWXYZ'), fc.constantFrom(...'ABDEFGHJLNPQRSTUWXYZ'))
    .map(([d, a, b]) => `${d}${a}${b}`);
  const postcode = fc.tuple(outward, inward, fc.constantFrom(' ', '', '  ')).map(([o, i, sep]) => `${o}${sep}${i}`);
  const identifier = fc.oneof(
    nhsWritten,
    dateWritten,
    postcode,
    postcode.map((p) => p.toLowerCase()),
  );
  const text = fc.array(fc.oneof({ weight: 3, arbitrary: filler }, { weight: 1, arbitrary: identifier }), { maxLength: 20 }).map((parts) => parts.join(' '));

  const digits = (s: string) => s.replace(/[\s-]/g, '');
  const compact = (s: string) => s.replace(/\s+/g, '').toUpperCase();

  test('no NHS number, full date or full postcode survives, however written', () => {
    fc.assert(
      fc.property(fc.array(identifier, { minLength: 1, maxLength: 4 }), text, (ids, around) => {
        const input = `${around} ${ids.join(' and ')} ${around}`;
        const out = scrubFreeText(input);
        for (const id of ids) {
          expect(digits(out)).not.toContain(digits(id));
          expect(compact(out)).not.toContain(compact(id));
        }
      }),
      { numRuns: 500 },
    );
  });

  test('no NHS number, full date or full postcode survives glued onto a word or a number', () => {
    const word = fc.constantFrom('x', 'pt', 'DOB', 'lives', 'ref', 'NHS', 'ward', '5', '12', 'A1');
    // Not a lower-case postcode without its space: glued to a word that shape is a dose as
    // often as a postcode (`paracetamol500mg`), and the scrubber leaves it (see scrub-free-text.ts).
    const gluable = fc.oneof(
      nhsWritten,
      dateWritten,
      postcode,
      postcode.filter((p) => /\s/.test(p)).map((p) => p.toLowerCase()),
    );
    fc.assert(
      fc.property(word, gluable, word, fc.boolean(), (before, id, after, gluedAfter) => {
        const out = scrubFreeText(`${before}${id}${gluedAfter ? after : ` ${after}`}`);
        expect(digits(out)).not.toContain(digits(id));
        expect(compact(out)).not.toContain(compact(id));
      }),
      { numRuns: 1000 },
    );
  });

  test('on arbitrary text, no run of ten digits (the shape of an NHS number) survives', () => {
    const noisy = fc.string({ unit: fc.constantFrom('0', '1', '9', ' ', '-', '.', '/', 'a', 'Z', '\n'), maxLength: 60 });
    fc.assert(
      fc.property(noisy, (input) => {
        const out = scrubFreeText(input);
        expect(out).not.toMatch(/\d(?:[\s.\-/]?\d){9}/);
        for (const run of out.match(/\d{10}/g) ?? []) expect(isValidNhsNumber(run)).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  test('scrubbing twice changes nothing more', () => {
    fc.assert(
      fc.property(text, (input) => {
        const once = scrubFreeText(input);
        expect(scrubFreeText(once)).toBe(once);
      }),
    );
  });
});

describe('the disguises the adversarial test found (issue: de-identified by construction)', () => {
  // 943 476 5919 passes Modulus 11 (a made-up number, like every identifier here).
  test.each([
    'NHS 943  476   5919',
    'NHS 943_476_5919',
    'NHS 943,476,5919',
    'NHS 943:476:5919',
    'NHS (943) 476 5919',
    'NHS 943\u2013476\u20135919',
    'NHS 943\u2212476\u22125919',
    'NHS 943\u2022476\u20225919',
    'NHS 943a476b5919',
    'NHS 943\u200b476\u200d5919',
    'NHS 943\u2060476\u00ad5919',
    'NHS \u0669\u0664\u0663\u0664\u0667\u0666\u0665\u0669\u0661\u0669',
    'NHS \u096f\u096a\u0969\u096a\u096d\u096c\u096b\u096f\u0967\u096f',
    'NHS nine four three four seven six five nine one nine',
    'NHS ninefourthreefoursevensixfivenineonenine',
  ])('no NHS number survives: %j', (text) => {
    const out = scrubFreeText(text);
    expect(out.replace(/\D/g, '')).not.toContain('9434765919');
    expect(out).toContain('[');
  });

  test.each([
    ['DOB 19610403', '19610403'],
    ['DOB 03041961', '03041961'],
    ['DOB 03 04 1961', '03041961'],
    ['DOB Apr-03-1961', 'Apr'],
    ['DOB 3rd day of April 1961', 'April'],
    ['DOB 1961 April 3', 'April'],
    ['born the third of April nineteen sixty one', 'April'],
  ])('no date of birth survives: %j', (text, gone) => {
    const out = scrubFreeText(text);
    expect(out).toContain('[DATE]');
    expect(out).not.toContain(gone);
  });

  test.each(['SE5-8AF', 'SE5_8AF', 'SE5.8AF', 'S E 5 8 A F', 'SE5\u200b8AF', 'se5 8af', 'xSE58AFx', '\uff33\uff25\uff15 \uff18\uff21\uff26'])(
    'no postcode survives: %j',
    (pc) => {
      const out = scrubFreeText(`lives ${pc} now`);
      expect(out.replace(/[^A-Za-z0-9]/g, '').toUpperCase()).not.toContain('SE58AF');
    },
  );

  test.each(['jo.bloggs(at)example.com', 'jo.bloggs at example dot com', 'jo.bloggs @ example.com', 'jo.bloggs@example', 'jo [at] example [dot] org'])(
    'no e-mail address survives: %j',
    (email) => {
      expect(scrubFreeText(`mail ${email} please`)).toBe('mail [EMAIL] please');
    },
  );

  test.each(['(020) 7946 0123', '020  7946  0123', '+44 (20) 7946 0123', '+44 (0)20 7946 0123', '0044 20 7946 0123', '07700 900123'])(
    'no phone number survives: %j',
    (phone) => {
      expect(scrubFreeText(`call ${phone} today`)).toBe('call [PHONE] today');
    },
  );

  test('names after a title, and listed given names with the family name after them', () => {
    // An initial alone survives.
    expect(scrubFreeText('Seen by Dr Okafor and Mrs J. Brennan; spoke to Amara Adeyemi.')).toBe('Seen by Dr [NAME] and Mrs J. [NAME]; spoke to [NAME] [NAME].');
  });
});

describe('what survives scrubbing on purpose', () => {
  test.each([
    'Paracetamol 500mg two tablets 4 times a day',
    'Metformin 500mg twice daily, 2.5ml at night',
    'BP 120/80, HR 72, SpO2 96%, Temp 37.5',
    'HbA1c 48 mmol/mol, eGFR 60',
    'Codes I10X, E11.9 and J44.9 recorded',
    'Review at 10:30 in 6 weeks',
    'Seen in April 2025 on Ward 5, Bed 12',
    'Vitamin B12 deficiency; T2DM and COPD',
    "Parkinson's disease, heart failure",
    'Will review next week',
  ])('%j', (text) => {
    expect(scrubFreeText(text)).toBe(text);
  });

  test('what is lost though harmless: six or more digits however they are separated, and names that are also words mid-sentence', () => {
    expect(scrubFreeText('SNOMED 38341003 recorded')).toBe('SNOMED [NUMBER] recorded');
    expect(scrubFreeText('Temp 37.5 08:00')).toMatch(/^Temp \[(NUMBER|DATE)\]$/);
    expect(scrubFreeText("history of Bell's palsy")).toBe("history of [NAME]'s palsy");
  });
});
