import type { Kysely } from 'kysely';
import { inTransaction, keyset, type Page, type PageRequest, type PageTime, sqlState } from '../db/index.js';
import { AppError, assert } from '../errors/index.js';
import { newId, randomCode } from '../ids/index.js';
import { openCreatorAccounts } from '../ledger/index.js';
import { getCampaign } from './campaigns.js';
import {
  enrolmentForUpdate,
  enrolmentRow,
  enrolmentsPage,
  enrolmentThatAccepted,
  insertEnrolment,
  rebindEnrolment,
  recordAcceptance,
  termsVersions,
  updateEnrolmentTarget,
} from './repository.js';
import { type Terms, termsCanonical } from '../terms/index.js';

/**
 * A creator joins a campaign by accepting one exact version of its terms (its SHA-256), and gets a
 * tracking link code and a promo code. Accepting a newer version later rebinds the enrolment to it;
 * every acceptance is kept (see acceptTerms).
 */
export interface Enrolment {
  id: string;
  campaign_id: string;
  creator_id: string;
  terms_version: number;
  terms_sha256: string;
  accepted_at: Date;
  link_code: string;
  promo_code: string;
  promo_max_uses: number | null;
  promo_once_per_customer: boolean;
  /** The creator's own incentive target (validated results per period); null: the campaign incentives' target. */
  target: number | null;
  /** When the creator first joined (accepted_at moves with each newer version accepted). */
  created_at: Date;
}

/** An enrolment with the terms it is bound to: what tracking and attribution need. */
export interface EnrolmentWithTerms extends Enrolment {
  org_id: string;
  campaign_status: string;
  terms: Terms;
}

type Db = Kysely<any>;

/**
 * Each enrolment with `terms_canonical`, the exact text of the terms version it accepted (its
 * `terms_sha256` is that text's SHA-256), so a creator can check what they agreed to.
 */
export async function withAcceptedTerms<E extends Enrolment>(db: Db, enrolments: readonly E[]): Promise<Array<E & { terms_canonical: string }>> {
  const terms = await termsVersions(db, enrolments);
  return enrolments.map((e) => {
    const accepted = terms.get(`${e.campaign_id} ${e.terms_version}`);
    assert(accepted, `enrolment ${e.id} names terms version ${e.terms_version}, which campaign ${e.campaign_id} does not have`);
    return { ...e, terms_canonical: termsCanonical(accepted) };
  });
}

/**
 * The creator accepts the campaign's current terms. The accepted version is the business key
 * (docs/api-conventions.md): accepting a version the creator already accepted answers the enrolment as
 * it stands (`replayed`; the same id, link and promo code, and `accepted_at` of the acceptance that
 * bound it), whatever the campaign's state or terms are now. Accepting a newer version rebinds the
 * enrolment to it: the same id, link and promo code, a new `accepted_at`, one more acceptance kept.
 */
export async function acceptTerms(
  db: Db,
  p: { creatorId: string; campaignId: string; termsVersion: number; termsSha256: string },
): Promise<{ enrolment: Enrolment; replayed: boolean }> {
  const campaign = await getCampaign(db, { kind: 'creator', id: p.creatorId }, p.campaignId);
  const accepted = await enrolmentThatAccepted(db, p);
  if (accepted) return { enrolment: accepted, replayed: true };
  if (!['funded', 'active', 'paused'].includes(campaign.status)) {
    throw new AppError('invalid_state', `campaign ${campaign.id} is ${campaign.status}: it takes no creators now`);
  }
  if (p.termsVersion !== campaign.terms_version || p.termsSha256 !== campaign.terms_sha256) {
    throw new AppError(
      'conflict',
      `the current terms are version ${campaign.terms_version} with sha256 ${campaign.terms_sha256}: review and accept those`,
      { details: { field: 'terms_sha256' } },
    );
  }
  await openCreatorAccounts(db, p.creatorId, campaign.currency);
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await inTransaction(db, (trx) => upsertEnrolment(trx, p, campaign.terms));
    } catch (e) {
      // A generated code collided with an existing one, or a concurrent first acceptance inserted the enrolment: again.
      if (sqlState(e) !== '23505') throw e;
    }
  }
  throw new AppError('conflict', 'could not allocate unique tracking codes; try again');
}

async function upsertEnrolment(
  trx: Db,
  p: { creatorId: string; campaignId: string; termsVersion: number; termsSha256: string },
  terms: Terms,
): Promise<{ enrolment: Enrolment; replayed: boolean }> {
  const found = await enrolmentForUpdate(trx, p);
  // A concurrent copy of this acceptance committed first.
  if (found && found.terms_version === p.termsVersion && found.terms_sha256 === p.termsSha256) return { enrolment: found, replayed: true };
  const id = found?.id ?? newId('enr');
  if (found) {
    await rebindEnrolment(trx, id, p);
  } else {
    const linkCode = randomCode(8);
    const promoCode = randomCode(8).toUpperCase();
    await insertEnrolment(trx, id, p, { linkCode, promoCode, promoMaxUses: terms.promo_max_uses, promoOncePerCustomer: terms.promo_once_per_customer });
  }
  await recordAcceptance(trx, id, p);
  return { enrolment: (await enrolmentRow(trx, id)) as Enrolment, replayed: false };
}

/**
 * The brand sets (or clears, with null) one creator's incentive target. It counts for periods not yet
 * closed: a closed period's bonus keeps the target it was first computed with (src/bonuses).
 */
export async function setEnrolmentTarget(
  db: Db,
  p: { orgId: string; campaignId: string; enrolmentId: string; target: number | null },
): Promise<Enrolment> {
  await getCampaign(db, { kind: 'organization', id: p.orgId }, p.campaignId);
  const row = await updateEnrolmentTarget(db, p);
  if (!row) throw new AppError('not_found', `no enrolment ${p.enrolmentId} in campaign ${p.campaignId}`);
  return row;
}

/** Newest first by created_at (when the creator joined), then id: one campaign's through enrolments_campaign_created. */
export async function listEnrolments(
  db: Db,
  filter: { campaignId?: string; creatorId?: string; orgId?: string },
  page: PageRequest,
): Promise<Page<Enrolment>> {
  const k = keyset(page, { time: 'e.created_at', keys: ['e.id'] });
  const rows = await enrolmentsPage<Enrolment & PageTime>(db, filter, k);
  return k.page(rows, (e) => [e.id]);
}
