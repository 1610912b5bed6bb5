/**
 * Value schemas shared by the config schema and the modules whose settings it embeds
 * (e.g. lib/config/airlock-settings.ts): kept apart so those modules do not import schema.ts,
 * which imports them.
 */
import { z } from 'zod';

/** IAM users and roles only: researchers are people signing in through a known principal. */
export const iamPrincipalArn = z
  .string()
  .regex(/^arn:aws(-[a-z]+)*:iam::\d{12}:(role|user)\/[\w+=,.@/-]{1,512}$/, {
    error: 'must be an IAM role or user ARN, e.g. arn:aws:iam::123456789012:role/NAME',
  });


/** The AWS account of an IAM ARN. */
export function arnAccount(arn: string): string {
  return arn.split(':')[4];
}
