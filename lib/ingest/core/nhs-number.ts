/**
 * NHS numbers: 10 digits, the last a Modulus 11 check digit over the first nine
 * (weights 10 down to 2). Pure functions, shared by ingestion, the opt-out list and the
 * synthetic population.
 *
 * Synthetic data uses only the 999 range (999 000 0000 to 999 999 9999): numbers starting
 * with 9 are never issued to patients (they are kept for development and test systems),
 * so test data can never be a real person's. `isTestRangeNhsNumber` is the check.
 */

/** Strips the spaces and hyphens people write NHS numbers with; undefined if anything else is there. */
export function normaliseNhsNumber(input: string): string | undefined {
  const stripped = input.replace(/[\s-]/g, '');
  return /^\d{10}$/.test(stripped) ? stripped : undefined;
}

/** The check digit for nine digits, or undefined where no check digit can be valid (remainder gives 10). */
export function nhsCheckDigit(nineDigits: string): number | undefined {
  if (!/^\d{9}$/.test(nineDigits)) return undefined;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (nineDigits.charCodeAt(i) - 48) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 10) return undefined;
  return check === 11 ? 0 : check;
}

/** Ten digits (spaces and hyphens allowed) whose last is the Modulus 11 check digit of the first nine. */
export function isValidNhsNumber(input: string): boolean {
  const digits = normaliseNhsNumber(input);
  if (digits === undefined) return false;
  const check = nhsCheckDigit(digits.slice(0, 9));
  return check !== undefined && check === digits.charCodeAt(9) - 48;
}

/** The full NHS number for nine digits, or undefined when those nine can never be valid. */
export function nhsNumberFromBase(nineDigits: string): string | undefined {
  const check = nhsCheckDigit(nineDigits);
  return check === undefined ? undefined : `${nineDigits}${check}`;
}

/** A valid number from the 999 test range: the only NHS numbers synthetic data may use. */
export function isTestRangeNhsNumber(input: string): boolean {
  return isValidNhsNumber(input) && normaliseNhsNumber(input)!.startsWith('999');
}
