import { CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
// The function cdk-nag itself uses to name a resource in a finding, so an acknowledgement
// names exactly that finding.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';

/**
 * Acknowledges one finding on `resource` about one wildcard ARN built from `value`.
 *
 * cdk-nag names a wildcard resource by its CloudFormation value as it appears in the
 * consuming template. For a bucket in another stack that value (a Fn::GetStackOutput)
 * exists only once CDK has wired the cross-stack reference, which happens after the
 * constructs are built and before validation; so the acknowledgement for that one ARN
 * is recorded then.
 */
export function acknowledgeOnceResolved(
  scope: Construct,
  resource: CfnResource,
  value: string,
  acknowledgement: (flattened: string) => { id: string; reason: string },
): void {
  let done = false;
  scope.node.addValidation({
    validate: () => {
      if (!done) {
        Validations.of(resource).acknowledge(acknowledgement(flattenCfnReference(Stack.of(resource).resolve(value))));
        done = true;
      }
      return [];
    },
  });
}
