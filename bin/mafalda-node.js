#!/usr/bin/env node
'use strict';
// `npx mafalda-node --redis URL --announced-ip IP ...` (docs/CLUSTER.md).
require('../dist/lib/cluster/node-cli').runNodeCli(process.argv.slice(2));
