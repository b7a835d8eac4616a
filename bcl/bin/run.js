#!/usr/bin/env node
import {runHost} from '../dist/launcher.js';
import {hostMounts} from '../dist/tools.js';

await runHost(import.meta.url, hostMounts(import.meta.url));
