import type { Kysely } from 'kysely';
import { enrolmentsByIds, enrolmentsByPromoCodes, type EnrolmentWithTerms } from '../campaigns/index.js';
import { ipHashSalt } from '../tracking/index.js';
import { type Attribution, type AttributionLookups, type BrandClick, brandClicks, creatorContacts, type CustomerProbe, databaseLookups, givenClickIds, type NewConversion, probesWithEarlierLead, promoUsesMany, visitorClicks } from '../conversions/index.js';
import { customerOf, databaseContext, type Decision, type DecisionContext } from './conversion.js';

/**
 * What a batch of conversions reads, fetched once per batch in a few set-based statements instead of
 * a handful of statements per conversion: the clicks, enrolments and promo codes attribution needs,
 * then — under the decision locks — the creators' contacts, earlier leads and promo uses judging needs. Each
 * conversion decided in the batch is `note`d, so the ones after it see it exactly as they would see
 * its row in the database (lead de-duplication, promo caps). Anything not prefetched is read from the
 * database, so a gap costs a query, never a wrong answer.
 */
export async function prefetchAttribution(
  trx: Kysely<any>,
  items: ReadonlyArray<{ d: Decision; occurredAt: Date }>,
): Promise<AttributionLookups> {
  const database = databaseLookups(trx);
  const decisions = items.map((i) => i.d);
  const clickKeys = decisions.flatMap((d) => givenClickIds(d.request).map((clickId) => ({ orgId: d.orgId, clickId })));
  const promoKeys = decisions.flatMap((d) => (d.request.promo_code ? [{ orgId: d.orgId, code: d.request.promo_code }] : []));
  const clicks = new Map<string, BrandClick>();
  for (const c of await brandClicks(trx, clickKeys)) clicks.set(`${c.org_id}:${c.id}`, c);
  const enrolments = new Map<string, EnrolmentWithTerms>();
  for (const e of await enrolmentsByIds(trx, [...clicks.values()].map((c) => c.enrolment_id))) enrolments.set(e.id, e);
  const promos = new Map<string, EnrolmentWithTerms>();
  for (const e of await enrolmentsByPromoCodes(trx, promoKeys)) promos.set(`${e.org_id}:${e.code}`, e);
  // The same visitors' other clicks, for every journey in the batch at once: from the earliest window start to the latest conversion.
  const visited = items.flatMap(({ d, occurredAt }) =>
    givenClickIds(d.request).flatMap((id) => {
      const c = clicks.get(`${d.orgId}:${id}`);
      const e = c && enrolments.get(c.enrolment_id);
      return c?.visitor_id && e ? [{ c, since: occurredAt.getTime() - e.terms.attribution_window_days * 86_400_000, until: occurredAt.getTime() }] : [];
    }),
  );
  const sameVisitor =
    visited.length === 0
      ? []
      : await visitorClicks(trx, {
          campaignIds: visited.map((v) => v.c.campaign_id),
          visitorIds: visited.map((v) => v.c.visitor_id as string),
          since: new Date(Math.min(...visited.map((v) => v.since))),
          until: new Date(Math.max(...visited.map((v) => v.until))),
        });
  const fetchedVisitors = new Set(visited.map((v) => `${v.c.campaign_id}:${v.c.visitor_id}`));
  // The enrolments those clicks credit, when no click sent named them.
  for (const e of await enrolmentsByIds(trx, [...new Set(sameVisitor.map((c) => c.enrolment_id).filter((id) => !enrolments.has(id)))])) {
    enrolments.set(e.id, e);
  }
  const fits = new Map<string, ReturnType<AttributionLookups['fit']>>();
  return {
    click: async (orgId, clickId) => clicks.get(`${orgId}:${clickId}`),
    enrolment: async (id) => enrolments.get(id) ?? (await enrolmentsByIds(trx, [id]))[0],
    promo: async (orgId, code) => promos.get(`${orgId}:${code.toUpperCase()}`),
    visitorClicks: async (campaignId, visitorIds, since, until) => {
      if (!visitorIds.every((v) => fetchedVisitors.has(`${campaignId}:${v}`))) return database.visitorClicks(campaignId, visitorIds, since, until);
      const wanted = new Set(visitorIds);
      return sameVisitor.filter((c) => c.campaign_id === campaignId && wanted.has(c.visitor_id as string) && c.occurred_at >= since && c.occurred_at <= until);
    },
    fit: (campaignId, model) => {
      const key = `${campaignId}:${model}`;
      let fit = fits.get(key);
      if (!fit) fits.set(key, (fit = database.fit(campaignId, model)));
      return fit;
    },
  };
}

export interface BatchDecisionContext extends DecisionContext {
  /** A conversion decided (and about to be inserted) in this batch: later ones must see it. */
  note(row: NewConversion): void;
}

export async function prefetchDecisions(
  trx: Kysely<any>,
  items: ReadonlyArray<{ d: Decision; attribution: Attribution }>,
): Promise<BatchDecisionContext> {
  const fallback = databaseContext(trx);
  const customers = items.map(({ d, attribution }) => ({ a: attribution, c: customerOf(d), type: d.request.type }));
  // Every creator on a journey: the judged one for self-referral in validation, the others for checkCredits.
  const contacts = await creatorContacts(trx, customers.flatMap(({ a }) => [a.enrolment.creator_id, ...a.touches.map((t) => t.creator_id)]));
  let salt: Promise<string> | undefined;
  const leadProbes = customers.filter(({ type }) => type === 'lead').map(({ a, c }) => probe(a.enrolment.campaign_id, c));
  const promoed = customers.filter(({ a }) => a.by === 'promo');
  const promoProbes = promoed.map(({ a, c }) => probe(a.enrolment.id, c));
  const capped = promoed.filter(({ a }) => a.enrolment.promo_max_uses !== null).map(({ a }) => a.enrolment.id);
  const earlier = indexed(leadProbes, await probesWithEarlierLead(trx, leadProbes));
  const uses = await promoUsesMany(trx, promoProbes, capped);
  const used = indexed(promoProbes, uses.used);
  const cappedSet = new Set(capped);
  // What this batch adds, as the database would show it once inserted.
  const leadsNow = new Set<string>();
  const usesNow = new Set<string>();
  const totalsNow = new Map<string, number>();
  const seen = (set: Set<string>, scope: string, c: { id: string; email: string | null }) =>
    set.has(`${scope}\nc\n${c.id}`) || (c.email !== null && set.has(`${scope}\ne\n${c.email}`));
  const add = (set: Set<string>, scope: string, c: { id: string; email: string | null }) => {
    set.add(`${scope}\nc\n${c.id}`);
    if (c.email !== null) set.add(`${scope}\ne\n${c.email}`);
  };
  return {
    lockDecisions: async () => {
      // The batch took every decision lock, in one sorted order, before judging.
    },
    creatorContact: async (id) => contacts.get(id) ?? fallback.creatorContact(id),
    ipSalt: () => (salt ??= ipHashSalt(trx)),
    hasEarlierLead: async (campaignId, c) => {
      if (seen(leadsNow, campaignId, c)) return true;
      const known = earlier.get(probeKey(campaignId, c));
      return known ?? fallback.hasEarlierLead(campaignId, c);
    },
    promoUses: async (enrolmentId, c, countAll) => {
      const known = used.get(probeKey(enrolmentId, c));
      if (known === undefined || (countAll && !cappedSet.has(enrolmentId))) {
        const stored = await fallback.promoUses(enrolmentId, c, countAll);
        return { total: stored.total + (countAll ? (totalsNow.get(enrolmentId) ?? 0) : 0), byCustomer: stored.byCustomer + (seen(usesNow, enrolmentId, c) ? 1 : 0) };
      }
      const total = countAll ? (uses.totals.get(enrolmentId) ?? 0) + (totalsNow.get(enrolmentId) ?? 0) : 0;
      return { total, byCustomer: known || seen(usesNow, enrolmentId, c) ? 1 : 0 };
    },
    note(row) {
      const c = { id: row.customer_id, email: row.customer_email };
      if (row.campaign_id !== null && row.type === 'lead') add(leadsNow, row.campaign_id, c);
      // An accepted use: paid, or held for review (see promoUses).
      if (row.attributed_by === 'promo' && row.enrolment_id !== null && (row.verdict === 'valid' || row.verdict === 'review')) {
        add(usesNow, row.enrolment_id, c);
        totalsNow.set(row.enrolment_id, (totalsNow.get(row.enrolment_id) ?? 0) + 1);
      }
    },
  };
}

function probe(scope: string, c: { id: string; email: string | null }): CustomerProbe {
  return { scope, customerId: c.id, email: c.email };
}

function probeKey(scope: string, c: { id: string; email: string | null }): string {
  return `${scope}\n${c.id}\n${c.email ?? ''}`;
}

/** Probe key → whether the database answered yes for it (a probe asked twice in a batch gives one key). */
function indexed(probes: readonly CustomerProbe[], yes: ReadonlySet<number>): Map<string, boolean> {
  const m = new Map<string, boolean>();
  probes.forEach((p, i) => {
    const key = probeKey(p.scope, { id: p.customerId, email: p.email });
    m.set(key, yes.has(i) || m.get(key) === true);
  });
  return m;
}
