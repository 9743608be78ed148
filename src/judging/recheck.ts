import type { Terms } from '../terms/index.js';
import { type EngineDeps, type EngineEvent, scoreEvents, type Verdict } from '../validation/index.js';
import type { ConversionCustomer, StoredClick } from './types.js';
import { pseudoAddress } from './address.js';
import { campaignLine, clickEvent, conversionEvent, creatorLine } from './events.js';
import { liveEngineDeps } from './validator.js';

/**
 * The release re-check: before settlement pays a creator's results, the engine judges the creator's
 * recent traffic on the campaign again, as one time-ordered stream (`scoreEvents`, the same pass
 * `earnest score` makes over a file). At intake it saw one conversion at a time; here it sees them
 * together, so what needs many events can speak: click flooding (CTIT mostly late, or flat), velocity
 * and bursts, duplicate leads by phone. Addresses are pseudo-addresses of the stored hashes
 * (address.ts), so the rules that look at the address itself — data-centre ranges — were judged at
 * intake and are not judged again. The conversion-rate comparison takes the campaign's other creators
 * as counts (`baseline`), since their traffic is not in the stream.
 */
export interface StoredConversion {
  id: string;
  occurredAt: Date;
  kind: 'lead' | 'sale';
  /** The click it is attributed to, if by click. */
  clickId: string | null;
  promoCode: string | null;
  customer: ConversionCustomer;
  /** `4:<hex>` or `6:<hex>` (see customerIpHash), or null when the brand sent no IP. */
  ipHash: string | null;
  userAgent: string | null;
  amount: string | null;
  currency: string | null;
}

/** One creator's recent traffic on one campaign. */
export interface CreatorTraffic {
  campaignId: string;
  terms: Pick<Terms, 'objective' | 'attribution_window_days' | 'validation'>;
  creator: { id: string; email: string; phone: string | null };
  clicks: readonly StoredClick[];
  conversions: readonly StoredConversion[];
  /** The campaign's other creators' valid clicks and converted clicks (the conversion-rate comparison). */
  baseline?:
    | { clicks: number; conversions: number; top?: { clicks: number; conversions: number } | null; creators?: number | null }
    | undefined;
}

/** The verdict of every click and conversion of the traffic, by id. */
export function recheckTraffic(t: CreatorTraffic, deps: EngineDeps = liveEngineDeps()): Map<string, Verdict> {
  const timed: Array<{ ms: number; order: number; id: string; event: EngineEvent }> = [];
  for (const c of t.clicks) {
    timed.push({ ms: c.occurredAt.getTime(), order: 0, id: c.id, event: clickEvent(t.campaignId, t.creator.id, c) });
  }
  for (const c of t.conversions) {
    const event = conversionEvent({
      id: c.id,
      occurredAt: c.occurredAt,
      kind: c.kind,
      campaignId: t.campaignId,
      creatorId: t.creator.id,
      clickId: c.clickId,
      promoCode: c.promoCode,
      customer: c.customer,
      ip: c.ipHash === null ? null : pseudoAddress(c.ipHash),
      userAgent: c.userAgent,
      amount: c.amount,
      currency: c.currency,
    });
    timed.push({ ms: c.occurredAt.getTime(), order: 1, id: c.id, event });
  }
  // Time order; at the same instant a click before a conversion, then by id, so the stream is the same every time.
  timed.sort((a, b) => a.ms - b.ms || a.order - b.order || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const campaign = { ...campaignLine(t.campaignId, t.terms), baseline: t.baseline ?? null };
  const events: EngineEvent[] = [campaign, creatorLine(t.creator), ...timed.map((x) => x.event)];
  return new Map(scoreEvents(events, deps).map((v) => [v.id, v]));
}
