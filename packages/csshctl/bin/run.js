#!/usr/bin/env node
import {runTool} from '@bcl/core/launcher';

await runTool(import.meta.url);
