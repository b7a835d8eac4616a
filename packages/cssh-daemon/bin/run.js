#!/usr/bin/env node
// cssh-daemon's bin: no oclif, no framework; a small argv parser in dist/cli.js.
import {main} from '../dist/cli.js';

process.exitCode = await main(process.argv.slice(2));
