// GuestAdmin over a REMOTE program client: the calls virsh makes for define, create, undefine, autostart,
// dominfo and version, typed by src/remote/protocol.ts.
import type { GuestRef } from '../connect/connection.js';
import { DOMAIN_STATES } from '../libvirt/domain-state.js';
import type { RemoteClient } from '../remote/client.js';
import { PROC, UndefineFlags } from '../remote/protocol.js';
import type { DomainDetails, GuestAdmin, HostVersion } from './admin.js';

const dom = (g: GuestRef) => ({ name: g.name, uuid: g.uuid, id: g.id });

export function createRemoteAdmin(client: RemoteClient): GuestAdmin {
  return {
    async defineXML(xml) {
      const { dom: d } = await client.call(PROC.DOMAIN_DEFINE_XML, { xml });
      return { name: d.name, uuid: d.uuid, id: d.id };
    },
    async createXML(xml) {
      const { dom: d } = await client.call(PROC.DOMAIN_CREATE_XML, { xml_desc: xml, flags: 0 });
      return { name: d.name, uuid: d.uuid, id: d.id };
    },
    async undefine(guest, options = {}) {
      await client.call(PROC.DOMAIN_UNDEFINE_FLAGS, {
        dom: dom(guest),
        flags: options.managedSave ? UndefineFlags.MANAGED_SAVE : 0,
      });
    },
    async setAutostart(guest, autostart) {
      await client.call(PROC.DOMAIN_SET_AUTOSTART, { dom: dom(guest), autostart: autostart ? 1 : 0 });
    },
    async details(guest): Promise<DomainDetails> {
      const d = dom(guest);
      const [info, os, persistent, autostart, saved] = await Promise.all([
        client.call(PROC.DOMAIN_GET_INFO, { dom: d }),
        client.call(PROC.DOMAIN_GET_OS_TYPE, { dom: d }),
        client.call(PROC.DOMAIN_IS_PERSISTENT, { dom: d }),
        client.call(PROC.DOMAIN_GET_AUTOSTART, { dom: d }),
        client.call(PROC.DOMAIN_HAS_MANAGED_SAVE_IMAGE, { dom: d, flags: 0 }),
      ]);
      return {
        state: DOMAIN_STATES[info.state] ?? 'nostate',
        osType: os.type,
        maxMemKiB: Number(info.maxMem),
        memoryKiB: Number(info.memory),
        vcpus: info.nrVirtCpu,
        cpuTimeNs: info.cpuTime,
        persistent: persistent.persistent !== 0,
        autostart: autostart.autostart !== 0,
        hasManagedSave: saved.result !== 0,
      };
    },
    async version(): Promise<HostVersion> {
      const [type, hv, lib] = await Promise.all([
        client.call(PROC.CONNECT_GET_TYPE),
        client.call(PROC.CONNECT_GET_VERSION),
        client.call(PROC.CONNECT_GET_LIB_VERSION),
      ]);
      return { type: type.type, hypervisorVersion: Number(hv.hv_ver), libraryVersion: Number(lib.lib_ver) };
    },
    async getXMLDesc(guest) {
      return (await client.call(PROC.DOMAIN_GET_XML_DESC, { dom: dom(guest), flags: 0 })).xml;
    },
  };
}
