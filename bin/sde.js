#!/usr/bin/env node
// Lets `npx sde` run the TypeScript CLI directly, with no build step (tsx compiles on load).
// First, refuse a Node.js the locked dependencies do not support, with the versions to install.
require('./prerequisites.js').refuseUnsupportedNode();
require('tsx/cjs');
require('./sde.ts');
