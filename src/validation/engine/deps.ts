import { type DatacenterRanges, defaultDatacenterRanges } from '../datacenter/index.js';
import { checkLead } from '../lead/index.js';
import type { EngineDeps } from './types.js';

/**
 * The engine's dependencies as Earnest runs it: the shipped data-centre ranges (or a list an operator
 * loaded to replace them) and the offline lead checker. Tests pass fakes to createEngine instead.
 */
export function engineDeps(ranges?: DatacenterRanges): EngineDeps {
  // Without a given list, the process's ranges at the time of each lookup (see useDatacenterRanges).
  return { datacenter: (ip) => (ranges ?? defaultDatacenterRanges()).match(ip), checkLead };
}
