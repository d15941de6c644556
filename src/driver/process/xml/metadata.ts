// Custom metadata elements of a domain (`<metadata>` children), one per namespace, kept as written and addressed by
// their namespace uri, as virDomainGetMetadata/virDomainSetMetadata see them.
import { xmlError } from '../errors.js';
import { attrsOf, childrenOf, declarations, elements, namespaceOf, readXml, serialize, tagOf, type Node } from './tree.js';

export interface MetadataElement {
  uri: string;
  prefix: string;
  /** the element serialized, with its own xmlns:prefix declaration */
  xml: string;
}

/** the elements of `<metadata>`; `inherited`: the namespaces declared above it */
export function parseMetadata(node: Node, inherited: Record<string, string>): MetadataElement[] {
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
    out.push({ uri, prefix, xml: serialize({ [tagOf(child)]: childrenOf(child), ':@': attrs }) });
  }
  return out;
}

/**
 * Replace (or with xml=null remove) the element in namespace `uri`, like virDomainSetMetadata: the new element is
 * re-rooted in `prefix` (the key).
 */
export function replaceMetadata(
  metadata: MetadataElement[],
  uri: string,
  prefix: string | null,
  xml: string | null,
): MetadataElement[] {
  const rest = metadata.filter((m) => m.uri !== uri);
  if (xml === null) return rest;
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
  return [...rest, { uri, prefix, xml: serialize({ [`${prefix}:${local}`]: childrenOf(renamed), ':@': attrs }) }];
}
