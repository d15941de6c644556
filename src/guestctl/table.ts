// guestctl's command table: every command, in virsh's groups and in alphabetical order within each.
import type { GuestctlCommand } from './command.js';
import { DOMAIN_MANAGEMENT } from './domain-management.js';
import { DOMAIN_MONITORING } from './domain-monitoring.js';
import { helpCommand } from './help.js';
import { HOST } from './host.js';

export const COMMANDS: readonly GuestctlCommand[] = [...DOMAIN_MANAGEMENT, ...DOMAIN_MONITORING, ...HOST, helpCommand(() => COMMANDS)];
