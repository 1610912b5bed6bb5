#!/usr/bin/env node
// The CDK entry point: load and validate the config, build the stacks. A bad config
// stops here with the same messages `sde validate` prints, before any template exists.
import { refuseUnsupportedNode } from './prerequisites';
import { createStacks, newSdeApp } from '../lib/app';
import { addComplianceGates } from '../lib/compliance/gates';
import { ConfigError, loadConfig } from '../lib/config';

refuseUnsupportedNode();
const app = newSdeApp();
const configDir: string = app.node.tryGetContext('config') ?? process.env.SDE_CONFIG ?? 'config';
try {
  createStacks(app, loadConfig(configDir));
} catch (e) {
  if (!(e instanceof ConfigError)) throw e;
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
}
addComplianceGates(app);
