#!/usr/bin/env node
import {runHost} from '../dist/launcher.js';
import {hostToolRoots} from '../dist/tools.js';

await runHost(import.meta.url, hostToolRoots(import.meta.url));
