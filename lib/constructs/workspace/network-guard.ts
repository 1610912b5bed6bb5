/**
 * The network condition on a project role's data-returning actions: query results and
 * execution details (whose error messages quote values), result objects, and Lake Formation
 * data access are denied unless the call comes from the analysis workspace's network,
 * through one of its VPC endpoints (`aws:SourceVpce`) or from its NAT addresses
 * (`aws:SourceIp`, the console in the secure browser). Calls a service makes on the role's
 * behalf (Athena writing results, reading data with the credentials Lake Formation vends)
 * carry `aws:ViaAWSService` and are left to the service: the pattern of AWS's data
 * perimeter examples.
 */
import * as iam from 'aws-cdk-lib/aws-iam';

/** Athena actions that return rows, or messages that can quote them. */
export const ATHENA_DATA_ACTIONS = [
  'athena:GetQueryResults',
  'athena:GetQueryResultsStream',
  'athena:GetQueryExecution',
  'athena:BatchGetQueryExecution',
] as const;

export interface NetworkCondition {
  readonly sourceVpce: readonly string[];
  readonly sourceIp: readonly string[];
}

function outsideTheWorkspace(network: NetworkCondition): Record<string, Record<string, unknown>> {
  if (network.sourceVpce.length === 0 && network.sourceIp.length === 0) throw new Error('a network condition needs at least one VPC endpoint or address');
  return {
    NotIpAddressIfExists: { 'aws:SourceIp': [...network.sourceIp] },
    StringNotEqualsIfExists: { 'aws:SourceVpce': [...network.sourceVpce] },
    BoolIfExists: { 'aws:ViaAWSService': 'false' },
  };
}

/** The deny statements, for the role's network guard policy (denials only). */
export function networkDenyStatements(network: NetworkCondition, resultsObjectsArn: string): iam.PolicyStatement[] {
  const conditions = outsideTheWorkspace(network);
  return [
    new iam.PolicyStatement({
      sid: 'DenyQueryResultsOutsideWorkspace',
      effect: iam.Effect.DENY,
      actions: [...ATHENA_DATA_ACTIONS],
      resources: ['*'],
      conditions,
    }),
    new iam.PolicyStatement({
      sid: 'DenyResultObjectsOutsideWorkspace',
      effect: iam.Effect.DENY,
      actions: ['s3:GetObject', 's3:GetObjectVersion'],
      resources: [resultsObjectsArn],
      conditions,
    }),
    new iam.PolicyStatement({
      sid: 'DenyDataAccessOutsideWorkspace',
      effect: iam.Effect.DENY,
      actions: ['lakeformation:GetDataAccess'],
      resources: ['*'],
      conditions,
    }),
  ];
}
