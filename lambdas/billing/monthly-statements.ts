/**
 * The monthly billing Lambda (BillingStack): the AWS SDK clients and the environment,
 * handed to the billing job (lib/billing/monthly-job.ts), which does the work.
 */
import { AthenaClient } from '@aws-sdk/client-athena';
import { BudgetsClient } from '@aws-sdk/client-budgets';
import { S3Client } from '@aws-sdk/client-s3';
import { createHandler } from '../../lib/billing/monthly-job';

export const handler = createHandler({ athena: new AthenaClient({}), s3: new S3Client({}), budgets: new BudgetsClient({}), env: process.env });
