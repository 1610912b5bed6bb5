#!/usr/bin/env node
// The CDK entry point: load and validate the config, build the stacks. A bad config
// stops here with the same messages `sde validate` prints, before any template exists.
import { refuseUnsupportedNode } from './prerequisites';
import { createStacks, newSdeApp } from '../lib/app';
import { addComplianceGates } from '../lib/compliance/gates';
import { ConfigError, lapsedProjects, loadConfig } from '../lib/config';

refuseUnsupportedNode();
const app = newSdeApp();
const fromContext: string | undefined = app.node.tryGetContext('config');
const configDir: string = fromContext ?? process.env.SDE_CONFIG ?? 'config';
// The fix for a wrong directory names the way it was given: cdk's context flag, or the variable.
const configFlag = fromContext !== undefined || process.env.SDE_CONFIG === undefined ? '--context config=DIR' : 'SDE_CONFIG=DIR';
try {
  // A project past its end date never blocks the deployment that removes its access.
  const config = loadConfig(configDir, { lapsedProjects: 'revoke', configFlag });
  for (const p of lapsedProjects(config)) {
    process.stderr.write(`note: ${p.file}: project ${p.id}'s approved period ended on ${p.period.end}: deploying it with no access; set status: expired\n`);
  }
  createStacks(app, config);
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
}
addComplianceGates(app);
