// XML as a tree of ordered nodes (fast-xml-parser's preserveOrder form), read the way libvirt's parser (libxml2)
// takes it. Pure: no files. Errors are LibvirtError XML_ERROR saying where and what is wrong.
import { XMLBuilder, XMLParser, XMLValidator } from 'fast-xml-parser';
import { LibvirtError } from '../../../libvirt/error.js';
import { xmlError } from '../errors.js';

/** how deep elements may nest (domain XML needs a handful of levels) */
export const MAX_NESTING = 100;

export type Node = Record<string, unknown> & { ':@'?: Record<string, string> };

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

export function tagOf(node: Node): string {
  return Object.keys(node).find((k) => k !== ':@') ?? '';
}
export function childrenOf(node: Node): Node[] {
  const v = node[tagOf(node)];
  return Array.isArray(v) ? (v as Node[]) : [];
}
export function attrsOf(node: Node): Record<string, string> {
  return node[':@'] ?? {};
}
export function textOf(node: Node): string {
  return childrenOf(node)
    .filter((c) => '#text' in c)
    .map((c) => String(c['#text']))
    .join('');
}
/** the elements among `nodes` (no text, comments or processing instructions) */
export function elements(nodes: Node[]): Node[] {
  return nodes.filter((n) => {
    const t = tagOf(n);
    return t !== '#text' && t !== '#comment' && !t.startsWith('?');
  });
}

/** one element serialized */
export const serialize = (node: Node): string => builder.build([node]) as string;

export function escapeText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
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
export function readXml(xml: string, context?: string): Node[] {
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

/** the namespace declarations an element makes: prefix ('' for the default) → uri */
export function declarations(node: Node): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrsOf(node))) {
    if (k === 'xmlns') out[''] = v;
    else if (k.startsWith('xmlns:')) out[k.slice(6)] = v;
  }
  return out;
}

/** namespace uri of an element from its own xmlns declarations or its ancestors' */
export function namespaceOf(node: Node, inherited: Record<string, string>): { prefix: string; uri: string | undefined } {
  const tag = tagOf(node);
  const prefix = tag.includes(':') ? tag.slice(0, tag.indexOf(':')) : '';
  const attrs = attrsOf(node);
  const uri = prefix ? (attrs[`xmlns:${prefix}`] ?? inherited[prefix]) : (attrs.xmlns ?? inherited['']);
  return { prefix, uri };
}
