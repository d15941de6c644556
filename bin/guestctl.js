#!/usr/bin/env node
// guestctl entry point: the client lives in dist/src/guestctl (built by `npm run build`).
import '../dist/src/guestctl/main.js';
