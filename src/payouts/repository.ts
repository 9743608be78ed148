import { type Kysely, sql, type Transaction } from 'kysely';
import { keyset, type Page, type PageRequest, type PageTime } from '../db/index.js';
import { AppError } from '../errors/index.js';
import { AccountCode } from '../ledger/index.js';

/** The tables this module owns (only it writes them) and those of other modules it may read. */
export const TABLES = { owns: ['payouts'], reads: ['creators', 'ledger_accounts', 'ledger_transfers'] } as const;

/** The only SQL on the `payouts` table (and the reads of creators' accounts payouts need). */
export const PAYOUT_STATUSES = ['pending', 'sent', 'completed', 'failed'] as const;
export type PayoutStatus = (typeof PAYOUT_STATUSES)[number];

export interface Payout {
  id: string;
  creator_id: string;
  amount: bigint;
  currency: string;
  provider: string;
  status: PayoutStatus;
  /** The provider's batch this payout travels in (for manual payouts, the CSV file's name). */
  provider_reference: string | null;
  failure: string | null;
  created_at: Date;
  /** When the provider accepted it; null while a `sent` payout is still being handed over. */
  sent_at: Date | null;
  finished_at: Date | null;
}

type Db = Kysely<any>;
type Trx = Transaction<any>;

function normalise(p: Payout): Payout {
  return { ...p, currency: p.currency.trim() };
}

export interface PayableCandidate {
  creator_id: string;
  currency: string;
  available: bigint;
}

/**
 * Creators' payable balances at or above the minimum, skipping creators with a payout recorded but
 * not yet sent (its money is still in the payable) and those in `skip` (already handled this run).
 */
export async function payableCandidates(trx: Trx, p: { minimum: bigint; limit: number; skip: readonly string[] }): Promise<PayableCandidate[]> {
  const r = await sql<PayableCandidate>`
    select c.id as creator_id, trim(a.currency) as currency, a.credits_posted - a.debits_posted - a.debits_pending as available
      from ledger_accounts a
      join creators c on a.id = 'payable:' || c.id || ':' || trim(a.currency)
     where a.code = ${AccountCode.creator_payable}
       and a.credits_posted - a.debits_posted - a.debits_pending >= ${p.minimum}
       and c.id <> all(${p.skip}::text[])
       and not exists (select 1 from payouts p where p.creator_id = c.id and p.currency = a.currency and p.status = 'pending')
     order by c.id, a.currency limit ${p.limit}`.execute(trx);
  return r.rows;
}

export async function insertPending(
  trx: Trx,
  batch: { provider: string; reference: string },
  rows: ReadonlyArray<{ id: string; creator_id: string; amount: bigint; currency: string }>,
): Promise<void> {
  if (rows.length === 0) return;
  await sql`insert into payouts (id, creator_id, amount, currency, provider, status, provider_reference, created_at)
    select x.id, x.creator_id, x.amount, x.currency, ${batch.provider}, 'pending', ${batch.reference}, earnest_now()
      from unnest(${rows.map((r) => r.id)}::text[], ${rows.map((r) => r.creator_id)}::text[],
        ${rows.map((r) => r.amount.toString())}::int8[], ${rows.map((r) => r.currency)}::char(3)[]) as x(id, creator_id, amount, currency)`.execute(trx);
}

/** Payouts of one batch in one state, locked (in id order, so concurrent runs never deadlock). */
export async function lockBatch(trx: Trx, reference: string, status: PayoutStatus): Promise<Payout[]> {
  const r = await sql<Payout>`select * from payouts where provider_reference = ${reference} and status = ${status}
    order by id for update`.execute(trx);
  return r.rows.map(normalise);
}

export async function lockPayouts(trx: Trx, ids: readonly string[]): Promise<Payout[]> {
  const r = await sql<Payout>`select * from payouts where id = any(${ids}::text[]) order by id for update`.execute(trx);
  return r.rows.map(normalise);
}

export async function lockPayout(trx: Trx, id: string): Promise<Payout> {
  const [p] = await lockPayouts(trx, [id]);
  if (!p) throw new AppError('not_found', `no payout ${id}`);
  return p;
}

/** Batches an interrupted run left behind: recorded but not sent, or sent but not yet accepted by the provider. */
export async function unfinishedBatches(db: Db, provider: string): Promise<string[]> {
  const r = await sql<{ ref: string }>`select distinct provider_reference as ref from payouts
     where provider = ${provider} and (status = 'pending' or (status = 'sent' and sent_at is null))
     order by ref`.execute(db);
  return r.rows.map((x) => x.ref);
}

export interface UnsubmittedPayout {
  payout_id: string;
  creator_id: string;
  payee_name: string;
  payee_email: string;
  amount: bigint;
  currency: string;
}

export async function unsubmitted(db: Db, reference: string): Promise<UnsubmittedPayout[]> {
  const r = await sql<UnsubmittedPayout>`select p.id as payout_id, p.creator_id, c.name as payee_name, c.email as payee_email,
      p.amount, trim(p.currency) as currency
    from payouts p join creators c on c.id = p.creator_id
   where p.provider_reference = ${reference} and p.status = 'sent' and p.sent_at is null order by p.id`.execute(db);
  return r.rows;
}

export async function markSent(trx: Trx, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`update payouts set status = 'sent' where id = any(${ids}::text[]) and status = 'pending'`.execute(trx);
}

/** The provider accepted these: confirmation (completed or failed) comes later. */
export async function markAccepted(trx: Trx, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`update payouts set sent_at = earnest_now() where id = any(${ids}::text[]) and status = 'sent' and sent_at is null`.execute(trx);
}

export async function markCompleted(trx: Trx, ids: readonly string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`update payouts set status = 'completed', sent_at = coalesce(sent_at, earnest_now()), finished_at = earnest_now()
    where id = any(${ids}::text[]) and status = 'sent'`.execute(trx);
}

export async function markFailed(trx: Trx, failures: ReadonlyArray<{ id: string; failure: string }>): Promise<void> {
  for (const f of failures) {
    await sql`update payouts set status = 'failed', failure = ${f.failure}, finished_at = earnest_now()
      where id = ${f.id} and status in ('pending', 'sent')`.execute(trx);
  }
}

export async function getPayout(db: Db, id: string, scope: { creatorId?: string } = {}): Promise<Payout> {
  const creator = scope.creatorId ? sql`and creator_id = ${scope.creatorId}` : sql``;
  const r = await sql<Payout>`select * from payouts where id = ${id} ${creator}`.execute(db);
  if (!r.rows[0]) throw new AppError('not_found', `no payout ${id}`);
  return normalise(r.rows[0]);
}

/** Payouts newest first by created_at, then id: a creator's through payouts_creator, all through payouts_created. */
export async function listPayouts(
  db: Db,
  filter: { creatorId?: string | undefined; status?: PayoutStatus | undefined; reference?: string | undefined },
  page: PageRequest,
): Promise<Page<Payout>> {
  const k = keyset(page, { time: 'created_at', keys: ['id'] });
  const conditions = [
    filter.creatorId ? sql`creator_id = ${filter.creatorId}` : sql`true`,
    filter.status ? sql`status = ${filter.status}` : sql`true`,
    filter.reference ? sql`provider_reference = ${filter.reference}` : sql`true`,
    k.where,
  ];
  const r = await sql<Payout & PageTime>`select *, ${k.select} from payouts where ${sql.join(conditions, sql` and `)}
    order by ${k.orderBy} limit ${k.limit}`.execute(db);
  const p = k.page(r.rows, (x) => [x.id]);
  return { ...p, rows: p.rows.map(normalise) };
}

/** Counts by status of the payouts in some batches (a run's report). */
export async function batchCounts(db: Db, references: readonly string[]): Promise<Array<{ status: PayoutStatus; accepted: boolean; n: bigint }>> {
  if (references.length === 0) return [];
  const r = await sql<{ status: PayoutStatus; accepted: boolean; n: bigint }>`
    select status, sent_at is not null as accepted, count(*) as n from payouts
     where provider_reference = any(${references}::text[]) group by status, accepted`.execute(db);
  return r.rows;
}

export interface CreatorAccountRow {
  id: string;
  code: number;
  currency: string;
  debits_pending: bigint;
  debits_posted: bigint;
  credits_pending: bigint;
  credits_posted: bigint;
}

/** A creator's payable and receivable accounts, every currency. */
export async function creatorAccounts(db: Db, creatorId: string): Promise<CreatorAccountRow[]> {
  const r = await sql<CreatorAccountRow>`select id, code, trim(currency) as currency, debits_pending, debits_posted, credits_pending, credits_posted
      from ledger_accounts
     where starts_with(id, ${`payable:${creatorId}:`}) or starts_with(id, ${`receivable:${creatorId}:`})
     order by currency, code`.execute(db);
  return r.rows;
}

/**
 * Money in transit to a creator, from the journal: payouts sent from these payables (501, whose
 * user_data is the payout id) that have neither completed (502) nor failed (503) yet.
 */
export async function inTransit(db: Db, payableIds: readonly string[]): Promise<Map<string, bigint>> {
  if (payableIds.length === 0) return new Map();
  const r = await sql<{ currency: string; total: bigint }>`select trim(s.currency) as currency, sum(s.amount) as total
      from ledger_transfers s
     where s.debit_account_id = any(${payableIds}::text[]) and s.code = 501
       and not exists (select 1 from ledger_transfers f where f.id = s.user_data || '.completed' or f.id = s.user_data || '.failed')
     group by s.currency`.execute(db);
  return new Map(r.rows.map((x) => [x.currency, BigInt(x.total)]));
}
