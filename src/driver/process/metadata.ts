// A domain's title, description and custom metadata elements (DOMAIN_GET_METADATA, DOMAIN_SET_METADATA), and its
// XML description. Which definition a call reads or changes, the running guest's or the persistent config, follows
// libvirt's VIR_DOMAIN_AFFECT_* rules.
import type { DriverAffect, DriverXMLFlags, MetadataKind } from '../driver.js';
import type { DriverContext } from './context.js';
import { definitionOf, type Dom } from './domain-table.js';
import { exclusiveFlags, invalidArg, noMetadata, operationInvalid } from './errors.js';
import type { GuestProcesses } from './guest-process.js';
import { formatDomainXML, withMetadataElement, type DomainDef } from './xml/domain.js';

/** the definitions a call applies to: "current" (neither given) is the running guest's when it runs, else the config */
function affected(dom: Dom, affect: DriverAffect): { live: boolean; config: boolean } {
  const current = !affect.live && !affect.config;
  const live = affect.live === true || (current && dom.run !== null);
  const config = affect.config === true || (current && dom.run === null);
  if (live && !dom.run) throw operationInvalid('domain is not running');
  if (config && !dom.config) throw operationInvalid('transient domains do not have any persistent config');
  return { live, config };
}

export class Metadata {
  constructor(
    private readonly ctx: DriverContext,
    private readonly processes: GuestProcesses,
  ) {}

  getXMLDesc(uuid: string, flags: DriverXMLFlags): string {
    const dom = this.ctx.table.byUuid(uuid);
    if (flags.inactive) return formatDomainXML(dom.config ?? definitionOf(dom));
    return formatDomainXML(definitionOf(dom), dom.run ? dom.id : undefined);
  }

  getMetadata(uuid: string, { type, uri }: { type: MetadataKind; uri: string | null }, affect: DriverAffect): string {
    const dom = this.ctx.table.byUuid(uuid);
    if (affect.live && affect.config) throw exclusiveFlags('VIR_DOMAIN_AFFECT_LIVE', 'VIR_DOMAIN_AFFECT_CONFIG');
    const def = affected(dom, affect).live ? definitionOf(dom) : (dom.config ?? definitionOf(dom));
    let value: string | null;
    if (type === 'description') value = def.description;
    else if (type === 'title') value = def.title;
    else {
      if (!uri) throw invalidArg('metadata of type element needs a namespace uri');
      value = def.metadata.find((m) => m.uri === uri)?.xml ?? null;
    }
    if (value === null) throw noMetadata();
    return value;
  }

  setMetadata(
    uuid: string,
    { type, value, key, uri }: { type: MetadataKind; value: string | null; key: string | null; uri: string | null },
    affect: DriverAffect,
  ): Promise<void> {
    const dom = this.ctx.table.byUuid(uuid);
    return dom.queue(async () => {
      const which = affected(dom, affect);
      const v = value === '' ? null : value;
      const apply = (def: DomainDef): DomainDef => {
        if (type === 'description') return { ...def, description: v };
        if (type === 'title') {
          if (v?.includes('\n')) throw invalidArg('a title must be a single line');
          return { ...def, title: v };
        }
        if (!uri) throw invalidArg('metadata of type element needs a namespace uri');
        if (v !== null && !key) throw invalidArg('metadata of type element needs a key (namespace prefix)');
        return withMetadataElement(def, uri, key, v);
      };
      // both computed before either is stored: a change that one definition refuses changes neither
      const config = which.config && dom.config ? apply(dom.config) : dom.config;
      const live = which.live && dom.live ? apply(dom.live) : dom.live;
      if (config && config !== dom.config) await this.ctx.store.writeConfig(config.name, formatDomainXML(config), config);
      dom.config = config;
      dom.live = live;
      if (dom.run) await this.processes.writeStatus(dom);
    });
  }
}
