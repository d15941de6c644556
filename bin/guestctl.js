#!/usr/bin/env node
// guestctl entry point: the client (src/guestctl) bundled with what it imports in dist/bundle (built by `npm run build`).
import '../dist/bundle/guestctl.js';
