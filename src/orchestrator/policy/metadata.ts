// A guest's policy as it is stored: one element in our namespace in the domain's <metadata>, written and read with
// libvirt's metadata API (DOMAIN_SET_METADATA / DOMAIN_GET_METADATA, type ELEMENT), or by hand with
// `virsh metadata DOMAIN --uri URI --key lgt --set '<policy order="1"/>'`:
//
//   <lgt:policy xmlns:lgt="https://libvirt-guests-ts.invalid/policy/1" order="10" on-shutdown="shutdown"/>
//
// Parsing never throws: an unknown attribute or a bad value is a problem of that guest (reported by the caller with
// its name) and only that value is left out; the other attributes still apply.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ATTRIBUTE_NAMES, ATTRIBUTES, isAttribute, type Policy, type PolicyAttribute, type PolicyValues } from './attributes.js';
import { nearestWord } from '../../spelling.js';

export const POLICY_NAMESPACE = 'https://libvirt-guests-ts.invalid/policy/1';
export const POLICY_PREFIX = 'lgt';
const ELEMENT = 'policy';

export interface ParsedPolicy {
  values: PolicyValues;
  /** what was wrong, one sentence each (the caller adds the guest's name) */
  problems: string[];
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', removeNSPrefix: true, parseAttributeValue: false, preserveOrder: true });

/** The policy of a metadata element (null: the guest has none). */
export function parsePolicy(xml: string | null): ParsedPolicy {
  if (xml === null || xml.trim() === '') return { values: {}, problems: [] };
  const valid = XMLValidator.validate(xml);
  if (valid !== true) return { values: {}, problems: [`the policy metadata is not well-formed XML (${valid.err.msg}); it is ignored`] };
  const nodes = (parser.parse(xml) as Record<string, unknown>[]).filter((n) => !('#text' in n) && !('?xml' in n));
  const root = nodes[0];
  const tag = root ? Object.keys(root).find((k) => k !== ':@') : undefined;
  if (nodes.length !== 1 || tag !== ELEMENT) {
    return { values: {}, problems: [`the policy metadata must be one <${ELEMENT}> element, found ${tag ? `<${tag}>` : 'none'}; it is ignored`] };
  }
  const attrs = ((root as Record<string, unknown>)[':@'] ?? {}) as Record<string, string>;
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, raw] of Object.entries(attrs)) {
    if (!isAttribute(name)) {
      const near = nearestWord(name, ATTRIBUTE_NAMES);
      problems.push(`unknown policy attribute "${name}"${near ? ` (did you mean "${near}"?)` : ''}; it is ignored`);
      continue;
    }
    const checked = ATTRIBUTES[name].check(raw);
    if (checked.ok) values[name] = checked.value;
    else problems.push(`${name}="${raw}" is not valid (allowed: ${checked.allowed}); it is ignored`);
  }
  return { values: values as PolicyValues, problems };
}

const escapeAttr = (v: string): string => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');

/** The element to store for `values`, without namespace declaration (libvirt adds it from the key and uri); null: none. */
export function formatPolicy(values: PolicyValues): string | null {
  const set = ATTRIBUTE_NAMES.filter((n) => values[n] !== undefined);
  if (set.length === 0) return null;
  return `<${ELEMENT} ${set.map((n) => `${n}="${escapeAttr(String(values[n]))}"`).join(' ')}/>`;
}

/** `values` with `changes` applied; an attribute set to undefined is removed. */
export function mergePolicy(values: PolicyValues, changes: Partial<Record<PolicyAttribute, Policy[PolicyAttribute] | undefined>>): PolicyValues {
  const out: Record<string, unknown> = { ...values };
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) delete out[k];
    else out[k] = v;
  }
  return out as PolicyValues;
}
