#!/usr/bin/env node
// guestd entry point: the daemon lives in dist/src/daemon (built by `npm run build`).
import '../dist/src/daemon/main.js';
