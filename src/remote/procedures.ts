// The REMOTE program's procedures by number and by name, over the generated table (procedure-table.ts).
import { PROCEDURES, type ProcedureInfo } from './procedure-table.js';

export { PROCEDURES, type ProcedureInfo };

const byNumber = new Map(PROCEDURES.map((p) => [p.number, p]));
const byName = new Map(PROCEDURES.map((p) => [p.name, p]));

export const procedureByNumber = (n: number): ProcedureInfo | undefined => byNumber.get(n);
export const procedureByName = (name: string): ProcedureInfo | undefined => byName.get(name);

/** false for mutating procedures and for numbers the REMOTE program does not have */
export const isReadOnlyProcedure = (n: number): boolean => byNumber.get(n)?.readonly ?? false;
