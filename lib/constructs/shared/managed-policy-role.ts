import { Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** IAM's limit on a customer-managed policy document (characters, whitespace excluded). */
export const MANAGED_POLICY_MAX_CHARS = 6144;
/** Managed policies IAM attaches to one role by default (quota, raisable to 20). */
export const MANAGED_POLICIES_PER_ROLE = 10;
/** What an unresolved value (a bucket or key ARN from a reference) may become at deployment. */
const RESOLVED_VALUE_CHARS = 100;
/** Room kept for the document's own wrapping (`{"Version":...,"Statement":[...]}`). */
const DOCUMENT_OVERHEAD_CHARS = 100;

export interface ManagedPolicyRoleProps {
  /** Who may assume the role, e.g. `new iam.ServicePrincipal('lambda.amazonaws.com')`. */
  readonly assumedBy: iam.IPrincipal;
  /** Says what the role is for, so a reviewer of the IAM console knows why it exists. */
  readonly description: string;
  /** Says what the policies allow. @default - the role's description */
  readonly policyDescription?: string;
}

/**
 * An IAM role whose every permission lives in customer-managed policies, with no inline
 * policy and no AWS-managed policy.
 *
 * HIPAA and NIST 800-53 want permissions reviewable as named policies (IAMNoInlinePolicy),
 * and AwsSolutions refuses AWS-managed policies (IAM4): the stock `AWSLambdaBasicExecutionRole`
 * lets a function create any log group in the account. Grants made by L2 constructs
 * (`bucket.grantRead(fn)`, tracing, state machine task permissions) land in the role's
 * inline default policy, so this role routes every statement added to it into its managed
 * policy instead. Nothing is dropped: `grant*` keeps working unchanged.
 *
 * A managed policy holds at most 6,144 characters, which per-dataset prefix grants reach
 * at a dozen or so datasets; statements that would overflow it go to a second policy (and
 * so on), each sized with every reference counted at its longest likely deployed length.
 */
export class ManagedPolicyRole extends iam.Role {
  /** The first policy (the others, if any, are in `policies`). */
  readonly policy: iam.ManagedPolicy;
  private readonly policyParts: { policy: iam.ManagedPolicy; chars: number }[] = [];
  private readonly holder = new Map<iam.PolicyStatement, iam.ManagedPolicy>();
  private readonly policyDescription: string;

  constructor(scope: Construct, id: string, props: ManagedPolicyRoleProps) {
    super(scope, id, { assumedBy: props.assumedBy, description: props.description });
    this.policyDescription = props.policyDescription ?? props.description;
    this.policy = this.newPolicy();
  }

  /** Every managed policy of the role, in order. */
  get policies(): readonly iam.ManagedPolicy[] {
    return this.policyParts.map((p) => p.policy);
  }

  /** The managed policy a statement added to this role was put in. */
  policyHolding(statement: iam.PolicyStatement): iam.ManagedPolicy {
    const policy = this.holder.get(statement);
    if (policy === undefined) throw new Error(`ManagedPolicyRole ${this.node.path}: that statement was not added to this role`);
    return policy;
  }

  override addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    const chars = estimatedChars(Stack.of(this), statement);
    let target = this.policyParts[this.policyParts.length - 1];
    if (target.chars + chars > MANAGED_POLICY_MAX_CHARS) {
      if (this.policyParts.length >= MANAGED_POLICIES_PER_ROLE) {
        throw new Error(
          `ManagedPolicyRole ${this.node.path}: the permissions need more than ${MANAGED_POLICIES_PER_ROLE} managed policies; grant fewer, wider prefixes`,
        );
      }
      this.newPolicy();
      target = this.policyParts[this.policyParts.length - 1];
    }
    target.policy.addStatements(statement);
    target.chars += chars;
    this.holder.set(statement, target.policy);
    return { statementAdded: true, policyDependable: target.policy };
  }

  private newPolicy(): iam.ManagedPolicy {
    const n = this.policyParts.length;
    // Children of the role, so anything that depends on the role (a function, a state
    // machine that checks its log permissions at creation) also waits for the policies.
    const policy = new iam.ManagedPolicy(this, n === 0 ? 'Policy' : `Policy${n + 1}`, {
      description: n === 0 ? this.policyDescription : `${this.policyDescription} (part ${n + 1})`.slice(0, 1000),
      roles: [this],
    });
    this.policyParts.push({ policy, chars: DOCUMENT_OVERHEAD_CHARS });
    return policy;
  }
}

/** A statement's length as IAM will count it, with each unresolved value at its longest likely length. */
function estimatedChars(stack: Stack, statement: iam.PolicyStatement): number {
  const resolved: unknown = stack.resolve(statement.toStatementJson());
  const measure = (v: unknown): number => {
    if (typeof v === 'string') return Token.isUnresolved(v) ? RESOLVED_VALUE_CHARS : JSON.stringify(v).length;
    if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v).length;
    if (Array.isArray(v)) return 2 + v.reduce((n: number, x) => n + measure(x) + 1, 0);
    const entries = Object.entries(v as Record<string, unknown>);
    // An intrinsic (Ref, Fn::GetAtt, Fn::Join ...) becomes one string at deployment.
    if (entries.length === 1 && (entries[0][0] === 'Ref' || entries[0][0].startsWith('Fn::'))) {
      return entries[0][0] === 'Fn::Join' ? joinedChars(entries[0][1], measure) : RESOLVED_VALUE_CHARS;
    }
    return 2 + entries.reduce((n, [k, x]) => n + JSON.stringify(k).length + 1 + measure(x) + 1, 0);
  };
  return measure(resolved) + 1;
}

function joinedChars(args: unknown, measure: (v: unknown) => number): number {
  const [, parts] = args as [string, unknown[]];
  // The quotes of the one resulting string, plus each part without its own quotes.
  return 2 + parts.reduce((n: number, p) => n + (typeof p === 'string' ? p.length : measure(p) - 2), 0);
}
