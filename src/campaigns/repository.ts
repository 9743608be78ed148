import { type Kysely, sql } from 'kysely';
import type { Enrolment } from './enrolments.js';

/**
 * SQL on campaigns, terms and enrolments added since issue #12's layering (older statements still live
 * beside their functions and move here with it).
 */
type Db = Kysely<any>;

/** The creator's enrolment in the campaign if it ever accepted exactly this version of the terms (its business key). */
export async function enrolmentThatAccepted(
  db: Db,
  p: { creatorId: string; campaignId: string; termsVersion: number; termsSha256: string },
): Promise<Enrolment | undefined> {
  const r = await sql<Enrolment>`select e.* from enrolments e
    join terms_acceptances a on a.enrolment_id = e.id and a.terms_version = ${p.termsVersion} and a.terms_sha256 = ${p.termsSha256}
    where e.campaign_id = ${p.campaignId} and e.creator_id = ${p.creatorId}`.execute(db);
  return r.rows[0];
}
