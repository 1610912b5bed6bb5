import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { denyGrantsExceptForAwsServices } from '../shared/key-policy';

export interface PlatformKeyProps {
  /** Alias, e.g. `alias/onelondon-sde/data`. */
  readonly alias: string;
  readonly description: string;
}

/**
 * A customer-managed KMS key as this platform needs every key: yearly automatic rotation,
 * RETAIN (a deleted key makes every object it encrypted unreadable forever), and KMS
 * grants only for AWS services acting on a resource, so nobody can quietly hand
 * decrypt rights to another principal through a grant instead of the key policy.
 */
export class PlatformKey extends Construct {
  readonly key: kms.Key;

  constructor(scope: Construct, id: string, props: PlatformKeyProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      alias: props.alias,
      description: props.description,
      enableKeyRotation: true,
      rotationPeriod: Duration.days(365),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    denyGrantsExceptForAwsServices(this.key);
  }
}
