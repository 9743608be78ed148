import type { LeadCheck, LeadInput, LeadSettings } from '../lead/index.js';

/**
 * The engine's dependencies, passed in rather than imported, so the engine is tested with fakes: the
 * data-centre lookup (src/validation/datacenter/) and the lead checker (src/validation/lead/, whose
 * types these are). engineDeps() in deps.ts gives the real ones.
 */
export type { LeadCheck, LeadInput, LeadSettings };

/** The provider's name when `ip` belongs to a data-centre or hosting range, else undefined. */
export type DatacenterLookup = (ip: string) => string | undefined;

export type LeadChecker = (input: LeadInput, settings: LeadSettings) => LeadCheck;

export interface EngineDeps {
  datacenter: DatacenterLookup;
  checkLead: LeadChecker;
}

/** What the engine answers for every click and every conversion. */
export interface Verdict {
  id: string;
  kind: 'click' | 'conversion';
  verdict: 'valid' | 'review' | 'invalid';
  /** 0–100, 100 = clean. Orders events within a verdict; the verdict alone decides payment. */
  score: number;
  /** Reason codes from REASON_CODES, in that list's order, each at most once. */
  reasons: string[];
}
