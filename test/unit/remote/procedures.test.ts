import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { repoPath } from '../../helpers/repo.js';
import { parse } from '../../../scripts/gen/procedures.js';
import { PROCEDURES, isReadOnlyProcedure, procedureByName, procedureByNumber } from '../../../src/remote/procedures.js';
import { EVENT, PROC } from '../../../src/remote/protocol.js';

describe('REMOTE procedure table', () => {
  it('has all 449 procedures, numbered 1..449', () => {
    assert.equal(PROCEDURES.length, 449);
    PROCEDURES.forEach((p, i) => assert.equal(p.number, i + 1));
  });

  it('maps known numbers to their names (checked against remote_protocol.x)', () => {
    const expected: Record<number, string> = {
      1: 'CONNECT_OPEN',
      2: 'CONNECT_CLOSE',
      9: 'DOMAIN_CREATE',
      12: 'DOMAIN_DESTROY',
      14: 'DOMAIN_GET_XML_DESC',
      23: 'DOMAIN_LOOKUP_BY_NAME',
      29: 'DOMAIN_SET_AUTOSTART',
      60: 'CONNECT_SUPPORTS_FEATURE',
      66: 'AUTH_LIST',
      70: 'AUTH_POLKIT',
      110: 'CONNECT_GET_URI',
      157: 'CONNECT_GET_LIB_VERSION',
      164: 'DOMAIN_ABORT_JOB',
      182: 'DOMAIN_MANAGED_SAVE',
      183: 'DOMAIN_HAS_MANAGED_SAVE_IMAGE',
      184: 'DOMAIN_MANAGED_SAVE_REMOVE',
      196: 'DOMAIN_CREATE_WITH_FLAGS',
      212: 'DOMAIN_GET_STATE',
      234: 'DOMAIN_DESTROY_FLAGS',
      258: 'DOMAIN_SHUTDOWN_FLAGS',
      264: 'DOMAIN_SET_METADATA',
      265: 'DOMAIN_GET_METADATA',
      273: 'CONNECT_LIST_ALL_DOMAINS',
      298: 'DOMAIN_GET_JOB_STATS',
      316: 'CONNECT_DOMAIN_EVENT_CALLBACK_REGISTER_ANY',
      318: 'DOMAIN_EVENT_CALLBACK_LIFECYCLE',
      337: 'DOMAIN_GET_TIME',
      338: 'DOMAIN_SET_TIME',
      350: 'DOMAIN_DEFINE_XML_FLAGS',
      360: 'CONNECT_REGISTER_CLOSE_CALLBACK',
      426: 'DOMAIN_GET_MESSAGES',
      449: 'DOMAIN_EVENT_LEASE_CHANGE',
    };
    for (const [n, name] of Object.entries(expected)) assert.equal(procedureByNumber(Number(n))?.name, name, `procedure ${n}`);
    assert.equal(procedureByName('DOMAIN_GET_INFO')?.number, 16);
  });

  it('classifies read-only and mutating procedures', () => {
    for (const n of [1, 2, 3, 4, 15, 16, 19, 22, 23, 24, 51, 59, 60, 66, 70, 110, 121, 122, 150, 151, 157, 163, 183, 212, 265, 273, 298, 316, 317, 360, 361, 426]) {
      assert.equal(isReadOnlyProcedure(n), true, `${n} ${procedureByNumber(n)?.name} should be read-only`);
    }
    for (const n of [8, 9, 10, 11, 12, 29, 33, 35, 58, 145, 164, 182, 184, 196, 231, 234, 258, 264, 337, 338, 350]) {
      assert.equal(isReadOnlyProcedure(n), false, `${n} ${procedureByNumber(n)?.name} should be mutating`);
    }
    assert.equal(isReadOnlyProcedure(9999), false);
    assert.deepEqual(procedureByNumber(14)?.conditionalAcl, [
      'domain:read_secure:VIR_DOMAIN_XML_SECURE',
      'domain:read_secure:VIR_DOMAIN_XML_MIGRATABLE',
    ]);
  });

  it('is what the generator makes of the checked-in extract', () => {
    const entries = parse(readFileSync(repoPath('scripts/gen/procedures.acl.txt'), 'utf8'));
    assert.deepEqual(
      entries.map((e) => [e.number, e.name, e.readonly]),
      PROCEDURES.map((p) => [p.number, p.name, p.readonly]),
    );
  });

  it('describes every procedure under the name the table gives its number', () => {
    for (const [key, p] of Object.entries(PROC)) assert.equal(p.name, key);
    for (const [key, e] of Object.entries(EVENT)) assert.equal(e.name, key);
  });

  it('lists PROC and EVENT by procedure number, so that a reader finds one where remote_protocol.x has it', () => {
    for (const table of [PROC, EVENT]) {
      const numbers = Object.values(table).map((p) => p.number);
      assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b));
    }
  });
});
