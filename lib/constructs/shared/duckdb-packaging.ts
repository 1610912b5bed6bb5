/**
 * How a Lambda function that writes Parquet gets DuckDB's native binding.
 *
 * `@duckdb/node-api` loads a platform package (`@duckdb/node-bindings-linux-x64`, ...)
 * holding a compiled `duckdb.node` and `libduckdb.so`. esbuild cannot bundle a native
 * binary, so the DuckDB packages are external to the bundle and must reach the function
 * another way:
 *
 * - `fromNodeModules(arch)` copies the installed packages into the function's asset. It
 *   needs no network and no Docker, so synth stays offline, and the asset works as
 *   deployed. The binding for `arch` must be installed: `npm install` installs the one for
 *   the machine it runs on (linux-x64 on CI and this project's build hosts); for another,
 *   `npm install --no-save --os=linux --cpu=arm64 @duckdb/node-bindings-linux-arm64@<version>`.
 * - `fromLayer(arn, arch)` leaves them out and attaches a Lambda layer that holds
 *   `nodejs/node_modules/@duckdb/...` for that architecture (see the README).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/** The modules esbuild must leave out of the bundle for DuckDB to load its native binding. */
/** Bundled in place of `@duckdb/node-api` for functions that never write Parquet (see duckdb-unavailable.ts). */
export const DUCKDB_STAND_IN = path.join(__dirname, 'duckdb-unavailable.ts');

export const DUCKDB_EXTERNAL_MODULES = ['@duckdb/node-api', '@duckdb/node-bindings'] as const;

const BINDING_PACKAGE: Record<string, string> = {
  arm64: '@duckdb/node-bindings-linux-arm64',
  x86_64: '@duckdb/node-bindings-linux-x64',
};

export abstract class DuckDbPackaging {
  /** Copy the installed DuckDB packages (for Linux on `architecture`, glibc) into the asset. */
  static fromNodeModules(architecture: lambda.Architecture, options: { readonly projectRoot?: string } = {}): DuckDbPackaging {
    return new NodeModulesPackaging(architecture, options.projectRoot ?? path.resolve(__dirname, '..', '..', '..'));
  }

  /** Attach a layer holding the DuckDB packages for `architecture` under `nodejs/node_modules/`. */
  static fromLayer(layerVersionArn: string, architecture: lambda.Architecture): DuckDbPackaging {
    return new LayerPackaging(layerVersionArn, architecture);
  }

  abstract readonly architecture: lambda.Architecture;
  /** Directories to copy into the asset's `node_modules/`, by package name. */
  abstract packageDirs(): ReadonlyMap<string, string>;
  /** The layer ARN, if the binding comes from a layer. */
  abstract readonly layerVersionArn?: string;
}

class NodeModulesPackaging extends DuckDbPackaging {
  readonly layerVersionArn = undefined;

  constructor(
    readonly architecture: lambda.Architecture,
    private readonly projectRoot: string,
  ) {
    super();
  }

  packageDirs(): ReadonlyMap<string, string> {
    const binding = BINDING_PACKAGE[this.architecture.name];
    if (binding === undefined) throw new Error(`DuckDbPackaging: no DuckDB binding for Lambda architecture ${this.architecture.name}`);
    const names = ['@duckdb/node-api', '@duckdb/node-bindings', binding, 'detect-libc'];
    const dirs = new Map<string, string>();
    for (const name of names) {
      const dir = packageDir(name, this.projectRoot);
      if (dir === undefined) {
        throw new Error(
          `DuckDbPackaging: ${name} is not installed, so the Parquet-writing function cannot be packaged for ${this.architecture.name}.\n` +
            `    fix: run \`npm install\`; for a binding of another platform, \`npm install --no-save --os=linux --cpu=${this.architecture.name === 'arm64' ? 'arm64' : 'x64'} ${name}\`, ` +
            'or deploy with a DuckDB layer: --context sde:duckdbLayerArn=<layer version ARN> (see the README, "Ingestion on AWS")',
        );
      }
      dirs.set(name, dir);
    }
    return dirs;
  }
}

class LayerPackaging extends DuckDbPackaging {
  constructor(
    readonly layerVersionArn: string,
    readonly architecture: lambda.Architecture,
  ) {
    super();
  }

  packageDirs(): ReadonlyMap<string, string> {
    return new Map();
  }
}

/** The installed directory of a package, looked up the way Node would from the project root. */
function packageDir(name: string, projectRoot: string): string | undefined {
  try {
    return path.dirname(require.resolve(`${name}/package.json`, { paths: [projectRoot] }));
  } catch {
    // Some packages do not export package.json; fall back to the plain node_modules layout.
    const dir = path.join(projectRoot, 'node_modules', ...name.split('/'));
    return fs.existsSync(path.join(dir, 'package.json')) ? dir : undefined;
  }
}
