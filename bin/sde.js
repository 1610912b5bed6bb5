#!/usr/bin/env node
// Lets `npx sde` run the TypeScript CLI directly, with no build step (tsx compiles on load).
require('tsx/cjs');
require('./sde.ts');
