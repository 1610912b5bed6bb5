/** Types of bin/prerequisites.js (plain JavaScript, so that any Node.js can run it). */
export interface Overrides {
  readonly env?: NodeJS.ProcessEnv;
  readonly platform?: NodeJS.Platform;
  readonly uid?: number;
  /** A folder standing in for `/` when the usual install locations and os-release are looked up. */
  readonly root?: string;
  readonly home?: string;
  readonly nodeVersion?: string;
  readonly packageJson?: { readonly engines?: { readonly node?: string } };
  /** Install through `sudo -n` when not root. */
  readonly sudo?: boolean;
}
export interface BrowserSearch {
  readonly path?: string;
  readonly tried: string[];
  readonly error?: string;
}
export interface NodeSupport {
  readonly ok: boolean;
  readonly message?: string;
  readonly note?: string;
}
export interface PrerequisiteCheck {
  readonly purpose: 'start' | 'test';
  readonly node: NodeSupport;
  readonly missing: ('chromium' | 'openssl' | 'git')[];
  readonly browser?: BrowserSearch;
  readonly install?: string[][];
  readonly family?: 'debian' | 'other';
  readonly platform: NodeJS.Platform;
}
export function satisfies(version: string, range: string): boolean;
export function supportedNodeRange(packageJson?: { readonly engines?: { readonly node?: string } }): string;
export function nodeSupport(version: string, range: string): NodeSupport;
export function refuseUnsupportedNode(): void;
export function findCommand(name: string, overrides?: Overrides): string | undefined;
export function findBrowser(overrides?: Overrides): BrowserSearch;
export function checkPrerequisites(purpose: 'start' | 'test', overrides?: Overrides): PrerequisiteCheck;
export function missingMessage(result: PrerequisiteCheck): string;
export function main(argv: readonly string[], log?: (line: string) => void): number;
