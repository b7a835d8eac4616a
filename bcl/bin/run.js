#!/usr/bin/env node
import {runHost} from '../dist/launcher.js';
import {toolRoots} from '../dist/tools.js';

await runHost(import.meta.url, toolRoots(import.meta.url));
