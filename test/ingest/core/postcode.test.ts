import { isValidPostcode, normalisePostcode, postcodeOutward } from '../../../lib/ingest/core/postcode';

// The shapes of UK postcodes, with examples from the Royal Mail / GDS documentation.
describe('UK postcodes', () => {
  test.each([
    ['M1 1AE', 'M1 1AE', 'M1'],
    ['B33 8TH', 'B33 8TH', 'B33'],
    ['CR2 6XH', 'CR2 6XH', 'CR2'],
    ['DN55 1PT', 'DN55 1PT', 'DN55'],
    ['W1A 0AX', 'W1A 0AX', 'W1A'],
    ['EC1A 1BB', 'EC1A 1BB', 'EC1A'],
    ['ec1a1bb', 'EC1A 1BB', 'EC1A'],
    [' se5\t8af ', 'SE5 8AF', 'SE5'],
    ['GIR 0AA', 'GIR 0AA', 'GIR'],
  ])('%j -> %j (outward %s)', (input, normal, outward) => {
    expect(normalisePostcode(input)).toBe(normal);
    expect(postcodeOutward(input)).toBe(outward);
    expect(isValidPostcode(input)).toBe(true);
  });

  test.each([
    ['QE5 8AF', 'Q never starts a postcode'],
    ['SE5 8AC', 'C never ends one'],
    ['SE5 8IK', 'I and K never appear in the inward code'],
    ['SE5', 'outward code alone'],
    ['SE5 8AFF', 'too long'],
    ['5SE 8AF', 'digit first'],
    ['SE5-8AF', 'hyphen'],
    ['', 'empty'],
  ])('refuses %j (%s)', (input) => {
    expect(normalisePostcode(input)).toBeUndefined();
    expect(postcodeOutward(input)).toBeUndefined();
  });
});
