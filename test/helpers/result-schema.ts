// Validates command output against the JSON schema checked into the repository (not the zod description), as a
// consumer of --json would.
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import { repoPath } from './repo.js';

export function resultValidator() {
  const schema = JSON.parse(readFileSync(repoPath('src/orchestrator/result.schema.json'), 'utf8'));
  const Ajv = Ajv2020 as unknown as typeof Ajv2020.default;
  return new Ajv({ allErrors: true, strict: false }).compile(schema);
}

/** throws with the validator's errors when `value` does not match the schema */
export function assertValidResult(value: unknown): void {
  const validate = resultValidator();
  if (!validate(value)) throw new Error(`result does not match result.schema.json: ${JSON.stringify(validate.errors)}`);
}

/** a command's --json output, checked against the schema and parsed by `schema`; the output and stderr when it is not */
export function parseResult<T>(schema: { parse(v: unknown): T }, run: { stdout: string; stderr: string; exitCode: number }): T {
  try {
    const value: unknown = JSON.parse(run.stdout);
    assertValidResult(value);
    return schema.parse(value);
  } catch (err) {
    throw new Error(`bad JSON result (exit ${run.exitCode}): ${String(err)}\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}
