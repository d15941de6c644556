// Writes src/orchestrator/result.schema.json from the zod description in result.ts. Run from the repository root
// after changing a result: `npm run gen`. A unit test fails when the checked-in file and the description disagree.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resultJsonSchema } from '../../src/orchestrator/result.js';

const out = join('src', 'orchestrator', 'result.schema.json');
writeFileSync(out, `${JSON.stringify(resultJsonSchema(), null, 2)}\n`);
console.log(`wrote ${out}`);
