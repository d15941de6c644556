// Domain XML for process guests: parse + validate `<domain type='process'>`, and format it back for
// DOMAIN_GET_XML_DESC. Pure: no files, no clock (uuid generation is injected). Errors are LibvirtError XML_ERROR
// whose message says what is wrong and what to write instead.
import { constants as bufferConstants } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import type { GuestBehavior } from '../../guest/protocol.js';
import { LibvirtError } from '../../remote/error.js';
import { xmlError } from './errors.js';

export const BEHAVIOR_NS = 'urn:guestd:behavior:1';
export const DOMAIN_TYPE = 'process';
export const OS_TYPE = 'exe';
/**
 * the largest memory a process guest may have: it is one Node.js buffer in the runtime (4 GiB on Node 20), and a
 * save writes it; 64 GiB at most whatever the runtime allows
 */
export const MAX_MEMORY_KIB = Math.min(64 * 1024 * 1024, Math.floor(bufferConstants.MAX_LENGTH / 1024));
export const MAX_NAME_BYTES = 200;
export const MAX_VCPUS = 4096;
/** how deep elements may nest (domain XML needs a handful of levels) */
export const MAX_NESTING = 100;

/** how a guest behaves, from `<gd:behavior>`; the runtime's own type */
export type Behavior = GuestBehavior;

export const DEFAULT_BEHAVIOR: Behavior = {
  bootSeconds: 0,
  shutdownSeconds: 1,
  honorShutdown: true,
  agent: true,
  driftPpm: 0,
  saveMiBps: 0,
};

/** One custom metadata element, kept as written (re-serialized), addressed by its namespace uri. */
export interface MetadataElement {
  uri: string;
  prefix: string;
  /** the element serialized, with its own xmlns:prefix declaration */
  xml: string;
}

export interface DomainDef {
  name: string;
  uuid: string;
  title: string | null;
  description: string | null;
  memoryKiB: number;
  currentMemoryKiB: number;
  vcpus: number;
  metadata: MetadataElement[];
  behavior: Behavior;
}

type Node = Record<string, unknown> & { ':@'?: Record<string, string> };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  // decode numeric character references (&#9;) as XML requires
  htmlEntities: true,
  commentPropName: '#comment',
  maxNestedTags: MAX_NESTING,
});
const builder = new XMLBuilder({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  suppressEmptyNode: true,
  commentPropName: '#comment',
});

const UUID_RE = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

/** libvirt's memory units (virScaleInteger): power-of-ten with a B, power-of-two otherwise. */
const UNIT_BYTES: Record<string, bigint> = (() => {
  const t: Record<string, bigint> = { b: 1n, bytes: 1n };
  const letters = ['k', 'm', 'g', 't', 'p', 'e'];
  letters.forEach((l, i) => {
    const bin = 1024n ** BigInt(i + 1);
    const dec = 1000n ** BigInt(i + 1);
    t[l] = bin;
    t[`${l}ib`] = bin;
    t[`${l}b`] = dec;
  });
  return t;
})();

function tagOf(node: Node): string {
  return Object.keys(node).find((k) => k !== ':@') ?? '';
}
function childrenOf(node: Node): Node[] {
  const v = node[tagOf(node)];
  return Array.isArray(v) ? (v as Node[]) : [];
}
function attrsOf(node: Node): Record<string, string> {
  return node[':@'] ?? {};
}
function textOf(node: Node): string {
  return childrenOf(node)
    .filter((c) => '#text' in c)
    .map((c) => String(c['#text']))
    .join('');
}
function elements(nodes: Node[]): Node[] {
  return nodes.filter((n) => {
    const t = tagOf(n);
    return t !== '#text' && t !== '#comment' && !t.startsWith('?');
  });
}

/** XML 1.0's Char production: what a document may hold, raw or as a character reference */
const isXmlChar = (cp: number): boolean =>
  cp === 0x9 ||
  cp === 0xa ||
  cp === 0xd ||
  (cp >= 0x20 && cp <= 0xd7ff) ||
  (cp >= 0xe000 && cp <= 0xfffd) ||
  (cp >= 0x10000 && cp <= 0x10ffff);
const FORBIDDEN_RAW = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const CHAR_REF = /&#(x[0-9a-fA-F]+|[0-9]+);/g;

function at(xml: string, index: number): string {
  const before = xml.slice(0, index);
  return `line ${before.split('\n').length}, column ${index - before.lastIndexOf('\n')}`;
}

/**
 * Check and parse XML the way libvirt's parser (libxml2) takes it: well-formed; only characters XML allows (the parser
 * would drop a forbidden reference silently: <name>a&#7;b</name> named the domain 'ab'); no DOCTYPE (no DTD, no
 * entities: libvirt's XML never needs them, and they lead to outside files and expansion bombs). Whatever the parser
 * refuses (nesting deeper than its limit…) is the client's bad input too: an XML error, never an internal one.
 */
function readXml(xml: string, context?: string): Node[] {
  const where = (index: number): string => `${context ? `${context}, ` : ''}${at(xml, index)}`;
  const raw = FORBIDDEN_RAW.exec(xml);
  if (raw) {
    const cp = (raw[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
    throw xmlError(`${where(raw.index)}: character U+${cp} is not allowed in XML; remove it`);
  }
  // references and declarations count outside comments and CDATA sections, where they are plain text
  const markup = xml.replace(/<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>/g, (m) => ' '.repeat(m.length));
  for (const ref of markup.matchAll(CHAR_REF)) {
    const digits = ref[1] ?? '';
    const cp = digits.startsWith('x') ? parseInt(digits.slice(1), 16) : parseInt(digits, 10);
    if (!isXmlChar(cp)) throw xmlError(`${where(ref.index)}: character reference ${ref[0]} is not allowed in XML; remove it`);
  }
  const doctype = /<!DOCTYPE\b/i.exec(markup);
  if (doctype)
    throw xmlError(`${where(doctype.index)}: DOCTYPE declarations (DTDs, entities) are not accepted; remove the <!DOCTYPE …>`);
  const what = context ?? 'XML';
  try {
    const valid = XMLValidator.validate(xml);
    if (valid !== true) throw xmlError(`malformed ${what} at line ${valid.err.line}, column ${valid.err.col}: ${valid.err.msg}`);
    return parser.parse(xml) as Node[];
  } catch (err) {
    if (err instanceof LibvirtError) throw err;
    const message = (err as Error).message;
    if (/nested/i.test(message)) throw xmlError(`elements nest deeper than ${MAX_NESTING} levels in the ${what}`, 'write a flatter document');
    throw xmlError(`malformed ${what}: ${message}`);
  }
}

/** a name as a message shows it: quoted, every control character escaped */
const visible = (name: string): string =>
  JSON.stringify(name).replace(/\p{Cc}/gu, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);

export function normalizeUuid(raw: string): string | null {
  const s = raw.trim();
  if (!UUID_RE.test(s)) return null;
  const hex = s.replace(/-/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function validateName(name: string): void {
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

/** Parse a libvirt scaled integer (`<memory unit='GiB'>4</memory>`) to KiB, rounding up like libvirt. */
export function parseMemoryKiB(element: string, text: string, unit: string | undefined): number {
  const value = text.trim();
  if (!/^\d+$/.test(value))
    throw xmlError(`<${element}> must be a whole number, got '${value}'`, `write e.g. <${element} unit='MiB'>512</${element}>`);
  const u = (unit ?? 'KiB').trim().toLowerCase();
  const scale = UNIT_BYTES[u];
  if (scale === undefined)
    throw xmlError(
      `<${element}> has unknown unit '${unit}'; write one of b, KiB, MiB, GiB, TiB (or KB, MB, GB, TB for powers of ten)`,
    );
  const bytes = BigInt(value) * scale;
  const kib = (bytes + 1023n) / 1024n;
  if (kib === 0n) throw xmlError(`<${element}> must be greater than 0; write e.g. <${element} unit='MiB'>64</${element}>`);
  if (kib > BigInt(MAX_MEMORY_KIB))
    throw xmlError(
      `<${element}> of ${kib} KiB is larger than the ${MAX_MEMORY_KIB / 1024 / 1024} GiB a process guest can hold ` +
        `(its memory is one Node.js buffer); write at most <${element} unit='KiB'>${MAX_MEMORY_KIB}</${element}>`,
    );
  return Number(kib);
}

function parseBool(attr: string, raw: string | undefined, dflt: boolean): boolean {
  if (raw === undefined) return dflt;
  if (raw === 'yes' || raw === 'on' || raw === 'true') return true;
  if (raw === 'no' || raw === 'off' || raw === 'false') return false;
  throw xmlError(`<gd:behavior ${attr}='${raw}'> is not yes/no; write ${attr}="yes" or ${attr}="no"`);
}

function parseNumber(attr: string, raw: string | undefined, dflt: number, min: number, max: number): number {
  if (raw === undefined) return dflt;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n) || n < min || n > max)
    throw xmlError(`<gd:behavior ${attr}='${raw}'> must be a number from ${min} to ${max}; write e.g. ${attr}="${dflt}"`);
  return n;
}

/** namespace uri of an element from its own xmlns declarations or its ancestors' */
function namespaceOf(node: Node, inherited: Record<string, string>): { prefix: string; uri: string | undefined } {
  const tag = tagOf(node);
  const prefix = tag.includes(':') ? tag.slice(0, tag.indexOf(':')) : '';
  const attrs = attrsOf(node);
  const uri = prefix ? (attrs[`xmlns:${prefix}`] ?? inherited[prefix]) : (attrs.xmlns ?? inherited['']);
  return { prefix, uri };
}

function declarations(node: Node): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrsOf(node))) {
    if (k === 'xmlns') out[''] = v;
    else if (k.startsWith('xmlns:')) out[k.slice(6)] = v;
  }
  return out;
}

export function parseBehavior(attrs: Record<string, string>): Behavior {
  return {
    bootSeconds: parseNumber('boot-seconds', attrs['boot-seconds'], DEFAULT_BEHAVIOR.bootSeconds, 0, 3600),
    shutdownSeconds: parseNumber(
      'shutdown-seconds',
      attrs['shutdown-seconds'],
      DEFAULT_BEHAVIOR.shutdownSeconds,
      0,
      3600,
    ),
    honorShutdown: parseBool('honor-shutdown', attrs['honor-shutdown'], DEFAULT_BEHAVIOR.honorShutdown),
    agent: parseBool('agent', attrs.agent, DEFAULT_BEHAVIOR.agent),
    driftPpm: parseNumber('drift-ppm', attrs['drift-ppm'], DEFAULT_BEHAVIOR.driftPpm, -1e6, 1e6),
    saveMiBps: parseNumber('save-mib-per-second', attrs['save-mib-per-second'], DEFAULT_BEHAVIOR.saveMiBps, 0, 1e6),
  };
}

function parseMetadata(node: Node, inherited: Record<string, string>): MetadataElement[] {
  const scope = { ...inherited, ...declarations(node) };
  const out: MetadataElement[] = [];
  for (const child of elements(childrenOf(node))) {
    const { prefix, uri } = namespaceOf(child, scope);
    if (!uri)
      throw xmlError(
        `metadata element <${tagOf(child)}> has no namespace; write it as <my:${tagOf(child)} xmlns:my="urn:example:1">`,
      );
    if (!prefix) throw xmlError(`metadata element <${tagOf(child)}> must use a namespace prefix, e.g. <my:${tagOf(child)}>`);
    if (out.some((m) => m.uri === uri))
      throw xmlError(`two metadata elements use the namespace '${uri}'; keep one element per namespace`);
    const attrs = { ...attrsOf(child) };
    attrs[`xmlns:${prefix}`] = uri;
    const copy: Node = { [tagOf(child)]: childrenOf(child), ':@': attrs };
    out.push({ uri, prefix, xml: builder.build([copy]) as string });
  }
  return out;
}

function behaviorFrom(metadata: MetadataElement[]): Behavior {
  const el = metadata.find((m) => m.uri === BEHAVIOR_NS);
  if (!el) return { ...DEFAULT_BEHAVIOR };
  const node = readXml(el.xml, 'behavior metadata XML').find((n) => tagOf(n) !== '#text');
  if (!node || tagOf(node).split(':').pop() !== 'behavior')
    throw xmlError(`the element in namespace ${BEHAVIOR_NS} must be <gd:behavior …/>`);
  return parseBehavior(attrsOf(node));
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
    const norm = normalizeUuid(textOf(uuidNode));
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
  const behavior = behaviorFrom(metadata);

  return {
    name,
    uuid,
    title: title && title.length > 0 ? title : null,
    description: description && description.length > 0 ? description : null,
    memoryKiB,
    currentMemoryKiB,
    vcpus,
    metadata,
    behavior,
  };
}

function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
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

/**
 * Replace (or with xml=null remove) the custom metadata element in namespace `uri`, like virDomainSetMetadata:
 * the element is re-rooted in `prefix` (the key). Returns a new, re-validated definition.
 */
export function withMetadataElement(def: DomainDef, uri: string, prefix: string | null, xml: string | null): DomainDef {
  const rest = def.metadata.filter((m) => m.uri !== uri);
  if (xml === null) return { ...def, metadata: rest, behavior: behaviorFrom(rest) };
  if (!prefix || !/^[A-Za-z_][\w.-]*$/.test(prefix))
    throw xmlError(`metadata key '${prefix ?? ''}' is not a valid XML namespace prefix; use e.g. 'my'`);
  const nodes = elements(readXml(xml, 'metadata XML'));
  const node = nodes[0];
  if (nodes.length !== 1 || !node) throw xmlError('metadata must be exactly one XML element');
  const local = tagOf(node).split(':').pop() ?? '';
  const rename = (n: Node): Node => {
    const tag = tagOf(n);
    if (tag === '#text' || tag === '#comment') return n;
    const attrs = Object.fromEntries(Object.entries(attrsOf(n)).filter(([k]) => k !== 'xmlns' && !k.startsWith('xmlns:')));
    const base = tag.split(':').pop() ?? tag;
    return { [`${prefix}:${base}`]: childrenOf(n).map(rename), ':@': attrs };
  };
  const renamed = rename(node);
  const attrs = { [`xmlns:${prefix}`]: uri, ...attrsOf(renamed) };
  const el: MetadataElement = {
    uri,
    prefix,
    xml: builder.build([{ [`${prefix}:${local}`]: childrenOf(renamed), ':@': attrs }]) as string,
  };
  const metadata = [...rest, el];
  return { ...def, metadata, behavior: behaviorFrom(metadata) };
}
