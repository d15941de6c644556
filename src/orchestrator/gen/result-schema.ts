// Writes src/orchestrator/result.schema.json from the zod description in result.ts. Run after changing a result:
//   node --import tsx src/orchestrator/gen/result-schema.ts
// A unit test fails when the checked-in file and the description disagree.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resultJsonSchema } from '../result.js';

const target = fileURLToPath(new URL('../../../../src/orchestrator/result.schema.json', import.meta.url));
const out = process.argv[2] ?? (import.meta.url.includes('/dist/') ? target : fileURLToPath(new URL('../result.schema.json', import.meta.url)));
writeFileSync(out, `${JSON.stringify(resultJsonSchema(), null, 2)}\n`);
console.log(`wrote ${out}`);
