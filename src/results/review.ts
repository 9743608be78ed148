import type { Kysely } from 'kysely';
import type { Page, PageRequest } from '../db/index.js';
import { decisionsOf, type ResultDecision } from './decisions.js';
import { clicksById, conversionsById, inReview } from './repository.js';
import type { Result } from './results.js';

/**
 * The operators' review queue: results in `review` (their money reserved, waiting for a person),
 * newest first by recorded_at like every list (index results_review), each with what a person needs
 * to decide — its reason codes, the conversion as the brand reported it, the click as tracking
 * recorded it, the click-to-conversion time, and the decisions so far. Reads across domains (conversions, clicks) and writes nothing.
 */
export interface ReviewEvidence {
  conversion: {
    id: string;
    external_id: string;
    type: 'lead' | 'sale';
    attributed_by: 'click' | 'promo' | null;
    promo_code: string | null;
    occurred_at: Date;
    recorded_at: Date;
    customer: { id: string; email: string | null; phone: string | null; country: string | null; age: number | null };
    user_agent: string | null;
    /** Whether the brand sent the customer's IP (it is kept only as a salted hash). */
    ip_recorded: boolean;
  } | null;
  click: {
    id: string;
    occurred_at: Date;
    status: string;
    user_agent: string | null;
    referrer: string | null;
    country: string | null;
  } | null;
  /** Seconds from the click to the conversion, when there are both. */
  ctit_seconds: number | null;
}

export interface ReviewItem {
  result: Result;
  evidence: ReviewEvidence;
  decisions: ResultDecision[];
}

type Db = Kysely<any>;

export async function reviewQueue(
  db: Db,
  filter: { campaignId?: string | undefined },
  page: PageRequest,
): Promise<Page<ReviewItem>> {
  const p = await inReview(db, filter, page);
  const results = p.rows.map((r) => ({ ...r, currency: r.currency.trim() }));
  const conversions = await conversionsById(db, results.filter((r) => r.kind === 'lead' || r.kind === 'sale').map((r) => r.source_id));
  const clickIds = results.map((r) => (r.kind === 'click' ? r.source_id : conversions.get(r.source_id)?.click_id)).filter((x): x is string => !!x);
  const clicks = await clicksById(db, clickIds);
  const decisions = await decisionsOf(db, results.map((r) => r.id));
  const items = results.map((result): ReviewItem => {
    const c = result.kind === 'click' ? undefined : conversions.get(result.source_id);
    const clickId = result.kind === 'click' ? result.source_id : c?.click_id;
    const k = clickId ? clicks.get(clickId) : undefined;
    return {
      result,
      evidence: {
        conversion: c
          ? {
              id: c.id,
              external_id: c.external_id,
              type: c.type,
              attributed_by: c.attributed_by,
              promo_code: c.request.promo_code,
              occurred_at: c.occurred_at,
              recorded_at: c.created_at,
              customer: { ...c.request.customer, age: c.request.customer.age ?? null },
              user_agent: c.user_agent,
              ip_recorded: c.ip_hash !== null,
            }
          : null,
        click: k ?? null,
        ctit_seconds: c && k ? (new Date(c.occurred_at).getTime() - new Date(k.occurred_at).getTime()) / 1000 : null,
      },
      decisions: decisions.filter((d) => d.result_id === result.id),
    };
  });
  return { ...p, rows: items };
}
