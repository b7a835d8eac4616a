#!/usr/bin/env node
// The PKI server's bin: no oclif, no framework; a small argv parser in dist/cli.js.
import {main} from '../dist/cli.js';

process.exitCode = await main(process.argv.slice(2));
