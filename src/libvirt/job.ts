// A guest's background job (a managed save) as libvirt reports it (virDomainJobType and the job stats).

/** Progress of a running job, as DOMAIN_GET_JOB_STATS reports it. Byte counts when known. */
export interface JobProgress {
  type: 'none' | 'bounded' | 'unbounded' | 'completed' | 'failed' | 'cancelled';
  dataTotal?: number;
  dataProcessed?: number;
  dataRemaining?: number;
  timeElapsedMs?: number;
}
