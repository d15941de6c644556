#!/usr/bin/env node
// libvirt-guests entry point: oclif reads the commands from dist/ (built by `npm run build`).
import { execute } from '@oclif/core';

await execute({ dir: import.meta.url });
