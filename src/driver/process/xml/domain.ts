// Domain XML for process guests: parse + validate `<domain type='process'>`, and format it back for
// DOMAIN_GET_XML_DESC. Pure: no files, no clock (uuid generation is injected). Errors are LibvirtError XML_ERROR
// whose message says what is wrong and what to write instead.
import { randomUUID } from 'node:crypto';
import type { GuestBehavior } from '../../../guest/protocol.js';
import { xmlError } from '../errors.js';
import { behaviorFrom } from './behavior.js';
import { parseMetadata, replaceMetadata, type MetadataElement } from './metadata.js';
import { parseMemoryKiB } from './scaled-integer.js';
import { attrsOf, childrenOf, declarations, elements, escapeText, readXml, tagOf, textOf, type Node } from './tree.js';
import { parseUuid } from '../../../libvirt/uuid.js';

export const DOMAIN_TYPE = 'process';
export const OS_TYPE = 'exe';
export const MAX_NAME_BYTES = 200;
export const MAX_VCPUS = 4096;

export interface DomainDef {
  name: string;
  uuid: string;
  title: string | null;
  description: string | null;
  memoryKiB: number;
  currentMemoryKiB: number;
  vcpus: number;
  metadata: MetadataElement[];
  behavior: GuestBehavior;
}

/** a name as a message shows it: quoted, every control character escaped */
const visible = (name: string): string =>
  JSON.stringify(name).replace(/\p{Cc}/gu, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);

function validateName(name: string): void {
  if (name.length === 0) throw xmlError('the domain <name> is empty', 'write e.g. <name>web1</name>');
  if (name.includes('/'))
    throw xmlError(`domain name '${name}' contains '/'; names become file names: write a name without '/'`);
  if (name.startsWith('.'))
    throw xmlError(`domain name '${name}' starts with '.' (or is '..'); write a name that starts with a letter or digit`);
  if (/\p{Cc}/u.test(name))
    throw xmlError(`domain name ${visible(name)} contains control characters; write printable characters only`);
  if (Buffer.byteLength(name) > MAX_NAME_BYTES)
    throw xmlError(`domain name is ${Buffer.byteLength(name)} bytes long; write at most ${MAX_NAME_BYTES} bytes`);
}

export interface ParseOptions {
  newUuid?: () => string;
}

/** Parse and validate domain XML. Throws LibvirtError XML_ERROR. */
export function parseDomainXML(xml: string, options: ParseOptions = {}): DomainDef {
  if (typeof xml !== 'string' || xml.trim() === '')
    throw xmlError('empty domain XML', "write <domain type='process'><name>…</name><memory unit='MiB'>64</memory></domain>");
  const top = elements(readXml(xml));
  const root = top[0];
  if (top.length !== 1 || !root || tagOf(root) !== 'domain')
    throw xmlError(
      `the root element must be <domain>, found ${top.map((n) => `<${tagOf(n)}>`).join(', ') || 'nothing'}`,
      "write <domain type='process'>…</domain>",
    );
  const rootAttrs = attrsOf(root);
  if (rootAttrs.type !== DOMAIN_TYPE)
    throw xmlError(
      rootAttrs.type === undefined
        ? `<domain> has no type attribute; write <domain type='${DOMAIN_TYPE}'>`
        : `domain type '${rootAttrs.type}' is not supported by this driver; write <domain type='${DOMAIN_TYPE}'>`,
    );
  const kids = elements(childrenOf(root));
  const one = (tag: string): Node | undefined => {
    const found = kids.filter((k) => tagOf(k) === tag);
    if (found.length > 1) throw xmlError(`<${tag}> appears ${found.length} times; write it once`);
    return found[0];
  };

  const nameNode = one('name');
  if (!nameNode) throw xmlError('the domain has no <name>', 'write e.g. <name>web1</name>');
  const name = textOf(nameNode);
  validateName(name);

  const uuidNode = one('uuid');
  let uuid: string;
  if (uuidNode) {
    const norm = parseUuid(textOf(uuidNode).trim());
    if (!norm)
      throw xmlError(
        `malformed uuid '${textOf(uuidNode)}'`,
        'write 32 hex digits as 8-4-4-4-12, e.g. <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>, or leave <uuid> out',
      );
    uuid = norm;
  } else uuid = (options.newUuid ?? randomUUID)();

  const memNode = one('memory');
  if (!memNode) throw xmlError("the domain has no <memory>; write e.g. <memory unit='MiB'>64</memory>");
  const memoryKiB = parseMemoryKiB('memory', textOf(memNode), attrsOf(memNode).unit);
  const curNode = one('currentMemory');
  const currentMemoryKiB = curNode
    ? parseMemoryKiB('currentMemory', textOf(curNode), attrsOf(curNode).unit)
    : memoryKiB;
  if (currentMemoryKiB > memoryKiB)
    throw xmlError(
      `<currentMemory> (${currentMemoryKiB} KiB) is larger than <memory> (${memoryKiB} KiB); write currentMemory ≤ memory`,
    );

  const vcpuNode = one('vcpu');
  let vcpus = 1;
  if (vcpuNode) {
    const t = textOf(vcpuNode).trim();
    vcpus = Number(t);
    if (!/^\d+$/.test(t) || vcpus < 1 || vcpus > MAX_VCPUS)
      throw xmlError(`<vcpu> '${t}' must be a whole number from 1 to ${MAX_VCPUS}; write e.g. <vcpu>2</vcpu>`);
  }

  const titleNode = one('title');
  const title = titleNode ? textOf(titleNode) : null;
  if (title !== null && title.includes('\n')) throw xmlError('<title> must be a single line; use <description> for more');
  const descNode = one('description');
  const description = descNode ? textOf(descNode) : null;

  const osNode = one('os');
  if (osNode) {
    const typeNode = elements(childrenOf(osNode)).find((n) => tagOf(n) === 'type');
    if (typeNode && textOf(typeNode).trim() !== OS_TYPE)
      throw xmlError(`<os><type>${textOf(typeNode)}</type> is not supported; write <os><type>${OS_TYPE}</type></os> or leave it out`);
  }

  const metaNode = one('metadata');
  const metadata = metaNode ? parseMetadata(metaNode, declarations(root)) : [];

  return {
    name,
    uuid,
    title: title && title.length > 0 ? title : null,
    description: description && description.length > 0 ? description : null,
    memoryKiB,
    currentMemoryKiB,
    vcpus,
    metadata,
    behavior: behaviorFrom(metadata),
  };
}

/** Format as libvirt would print it (`virsh dumpxml`); `id` only for a running guest. */
export function formatDomainXML(def: DomainDef, id?: number): string {
  const lines: string[] = [];
  lines.push(`<domain type='${DOMAIN_TYPE}'${id !== undefined && id > 0 ? ` id='${id}'` : ''}>`);
  lines.push(`  <name>${escapeText(def.name)}</name>`);
  lines.push(`  <uuid>${def.uuid}</uuid>`);
  if (def.title !== null) lines.push(`  <title>${escapeText(def.title)}</title>`);
  if (def.description !== null) lines.push(`  <description>${escapeText(def.description)}</description>`);
  if (def.metadata.length > 0) {
    lines.push('  <metadata>');
    for (const m of def.metadata) lines.push(`    ${m.xml}`);
    lines.push('  </metadata>');
  }
  lines.push(`  <memory unit='KiB'>${def.memoryKiB}</memory>`);
  lines.push(`  <currentMemory unit='KiB'>${def.currentMemoryKiB}</currentMemory>`);
  lines.push(`  <vcpu placement='static'>${def.vcpus}</vcpu>`);
  lines.push('  <os>');
  lines.push(`    <type>${OS_TYPE}</type>`);
  lines.push('  </os>');
  lines.push('  <on_poweroff>destroy</on_poweroff>');
  lines.push('  <on_reboot>restart</on_reboot>');
  lines.push('  <on_crash>destroy</on_crash>');
  lines.push('</domain>');
  return `${lines.join('\n')}\n`;
}

/** The definition with the metadata element in namespace `uri` replaced (or, xml=null, removed); re-validated. */
export function withMetadataElement(def: DomainDef, uri: string, prefix: string | null, xml: string | null): DomainDef {
  const metadata = replaceMetadata(def.metadata, uri, prefix, xml);
  return { ...def, metadata, behavior: behaviorFrom(metadata) };
}
