// GuestAdmin over a REMOTE program client: the calls virsh makes for define, create, undefine, autostart,
// dominfo and version, typed by src/remote/protocol.ts.
import type { GuestRef } from '../connect/connection.js';
import { DOMAIN_STATES } from '../libvirt/domain-state.js';
import type { RemoteClient } from '../remote/client.js';
import { MEMORY_STAT_TAGS, UndefineFlags } from '../remote/enums.js';
import { PROC } from '../remote/protocol.js';
import type { DomainDetails, GuestAdmin, HostVersion, MemoryStats, NodeInfo } from './admin.js';

const dom = (g: GuestRef) => ({ name: g.name, uuid: g.uuid, id: g.id });

export function createRemoteAdmin(client: RemoteClient): GuestAdmin {
  return {
    async suspend(guest) {
      await client.call(PROC.DOMAIN_SUSPEND, { dom: dom(guest) });
    },
    async resume(guest) {
      await client.call(PROC.DOMAIN_RESUME, { dom: dom(guest) });
    },
    async reboot(guest) {
      await client.call(PROC.DOMAIN_REBOOT, { dom: dom(guest), flags: 0 });
    },
    async reset(guest) {
      await client.call(PROC.DOMAIN_RESET, { dom: dom(guest), flags: 0 });
    },
    async memoryStats(guest): Promise<MemoryStats> {
      const { stats } = await client.call(PROC.DOMAIN_MEMORY_STATS, { dom: dom(guest), maxStats: MEMORY_STAT_TAGS.length, flags: 0 });
      return stats
        .filter((st) => MEMORY_STAT_TAGS[st.tag] !== undefined)
        .map((st) => ({ name: MEMORY_STAT_TAGS[st.tag]!, value: Number(st.val) }));
    },
    async nodeInfo(): Promise<NodeInfo> {
      const n = await client.call(PROC.NODE_GET_INFO);
      return {
        model: n.model,
        cpus: n.cpus,
        mhz: n.mhz,
        sockets: n.sockets,
        cores: n.cores,
        threads: n.threads,
        nodes: n.nodes,
        memoryKiB: Number(n.memory),
      };
    },
    async capabilities() {
      return (await client.call(PROC.CONNECT_GET_CAPABILITIES)).capabilities;
    },
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
