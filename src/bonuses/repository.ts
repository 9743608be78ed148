import { type Kysely, sql, type Transaction } from 'kysely';
import type { Terms } from '../terms/index.js';
import { keyset, type Page, type PageRequest, type PageTime } from '../db/index.js';

/** The tables this module owns (only it writes them) and those of other modules it may read. */
export const TABLES = { owns: ['bonus_periods', 'bonus_movements'], reads: ['campaigns', 'campaign_terms', 'enrolments', 'results', 'ledger_accounts', 'ledger_pending', 'ledger_transfers'] } as const;

/**
 * The bonus tables (migration 0014): `bonus_periods`, one row per enrolment and closed period, and
 * `bonus_movements`, append-only. Only this module writes them.
 */
type Db = Kysely<any>;
type Trx = Transaction<any>;

export const BONUS_STATUSES = ['held', 'released'] as const;
export type BonusStatus = (typeof BONUS_STATUSES)[number];

export interface BonusPeriodRow {
  enrolment_id: string;
  period_key: string;
  campaign_id: string;
  creator_id: string;
  currency: string;
  period_start: Date;
  period_end: Date;
  terms_version: number;
  target: number | null;
  status: BonusStatus;
  tier: number | null;
  counted_results: number;
  base_earnings: bigint;
  due: bigint;
  held: bigint;
  held_net: bigint;
  held_fee: bigint;
  credited: bigint;
  paid_net: bigint;
  fees_paid: bigint;
  clawed_back: bigint;
  shortfall: bigint;
  steps: number;
  closed_at: Date;
  released_at: Date | null;
  updated_at: Date;
}

const MONEY_COLUMNS = ['base_earnings', 'due', 'held', 'held_net', 'held_fee', 'credited', 'paid_net', 'fees_paid', 'clawed_back', 'shortfall'] as const;

function normalise(r: BonusPeriodRow): BonusPeriodRow {
  const out = { ...r, currency: r.currency.trim() } as BonusPeriodRow;
  for (const k of MONEY_COLUMNS) (out as unknown as Record<string, bigint>)[k] = BigInt(r[k]);
  return out;
}

/** An enrolment of a campaign with the terms it is bound to and its own target. */
export interface EnrolmentTerms {
  id: string;
  campaign_id: string;
  creator_id: string;
  org_id: string;
  target: number | null;
  terms_version: number;
  terms: Terms;
}

export async function enrolmentsOf(db: Db, campaignId: string): Promise<EnrolmentTerms[]> {
  const r = await sql<EnrolmentTerms>`select e.id, e.campaign_id, e.creator_id, c.org_id, e.target, e.terms_version, t.terms
      from enrolments e join campaigns c on c.id = e.campaign_id
      join campaign_terms t on t.campaign_id = e.campaign_id and t.version = e.terms_version
     where e.campaign_id = ${campaignId} order by e.id`.execute(db);
  return r.rows;
}

export async function enrolmentCount(db: Db, campaignId: string): Promise<number> {
  const r = await sql<{ n: bigint }>`select count(*) as n from enrolments where campaign_id = ${campaignId}`.execute(db);
  return Number(r.rows[0]?.n ?? 0n);
}

export async function termsVersion(db: Db, campaignId: string, version: number): Promise<Terms> {
  const r = await sql<{ terms: Terms }>`select terms from campaign_terms where campaign_id = ${campaignId} and version = ${version}`.execute(db);
  const row = r.rows[0];
  if (!row) throw new Error(`no terms version ${version} of campaign ${campaignId}`);
  return row.terms;
}

export interface CampaignToVisit {
  id: string;
  org_id: string;
  status: string;
}

/**
 * Campaigns whose enrolments' terms have incentive tiers and whose bonuses may need work: running or
 * ended ones, and settled ones with a result reversed after settlement (a bonus to correct).
 */
export async function campaignsWithTiers(db: Db, limit: number): Promise<CampaignToVisit[]> {
  const r = await sql<CampaignToVisit>`select c.id, c.org_id, c.status from campaigns c
     where exists (select 1 from enrolments e join campaign_terms t on t.campaign_id = e.campaign_id and t.version = e.terms_version
                    where e.campaign_id = c.id and jsonb_typeof(t.terms -> 'incentives' -> 'tiers') = 'array'
                      and jsonb_array_length(t.terms -> 'incentives' -> 'tiers') > 0)
       and (c.status in ('active', 'paused', 'ended')
         or (c.status = 'settled' and exists (select 1 from results r where r.campaign_id = c.id and r.status = 'reversed'
                                               and r.decided_at > c.settled_at)))
     order by c.id limit ${limit}`.execute(db);
  return r.rows;
}

export interface PeriodResult {
  id: string;
  enrolment_id: string;
  status: string;
  gross: bigint;
  recorded_at: Date;
}

/** Results of a campaign that count for bonuses or may still (approved, pending, review, reversed), in recording order. */
export async function campaignResults(db: Db, campaignId: string): Promise<PeriodResult[]> {
  const r = await sql<PeriodResult>`select id, enrolment_id, status, gross, recorded_at from results
     where campaign_id = ${campaignId} and status in ('approved', 'pending', 'review', 'reversed')
     order by enrolment_id, recorded_at, id`.execute(db);
  return r.rows.map((x) => ({ ...x, gross: BigInt(x.gross) }));
}

/** One enrolment's results recorded in [start, end), in recording order: read after the period row is locked. */
export async function periodResults(trx: Trx, enrolmentId: string, start: Date, end: Date): Promise<PeriodResult[]> {
  const r = await sql<PeriodResult>`select id, enrolment_id, status, gross, recorded_at from results
     where enrolment_id = ${enrolmentId} and recorded_at >= ${start.toISOString()}::timestamptz and recorded_at < ${end.toISOString()}::timestamptz
       and status in ('approved', 'pending', 'review', 'reversed')
     order by recorded_at, id`.execute(trx);
  return r.rows.map((x) => ({ ...x, gross: BigInt(x.gross) }));
}

export async function bonusRowsOf(db: Db, filter: { campaignId: string; creatorId?: string }): Promise<BonusPeriodRow[]> {
  const creator = filter.creatorId ? sql`and creator_id = ${filter.creatorId}` : sql``;
  const r = await sql<BonusPeriodRow>`select * from bonus_periods where campaign_id = ${filter.campaignId} ${creator}
     order by period_start, enrolment_id`.execute(db);
  return r.rows.map(normalise);
}

/**
 * A page of the campaign's bonus rows (one creator's, optionally), newest period first: by
 * period_start, then enrolment and period key (index bonus_periods_campaign_start).
 */
export async function listBonusRows(db: Db, filter: { campaignId: string; creatorId?: string }, page: PageRequest): Promise<Page<BonusPeriodRow>> {
  const k = keyset(page, { time: 'b.period_start', keys: ['b.enrolment_id', 'b.period_key'] });
  const creator = filter.creatorId ? sql`and b.creator_id = ${filter.creatorId}` : sql``;
  const r = await sql<BonusPeriodRow & PageTime>`select b.*, ${k.select} from bonus_periods b
    where b.campaign_id = ${filter.campaignId} ${creator} and ${k.where} order by ${k.orderBy} limit ${k.limit}`.execute(db);
  const p = k.page(r.rows, (b) => [b.enrolment_id, b.period_key]);
  return { ...p, rows: p.rows.map(normalise) };
}

/** Creates the period's row if it is new (first close), then locks it: one step at a time per enrolment-period. */
export async function lockPeriod(
  trx: Trx,
  p: { enrolment: EnrolmentTerms; key: string; start: Date; end: Date; target: number | null; currency: string },
): Promise<BonusPeriodRow> {
  await sql`insert into bonus_periods (enrolment_id, period_key, campaign_id, creator_id, currency, period_start, period_end, terms_version,
      target, status, closed_at, updated_at)
    values (${p.enrolment.id}, ${p.key}, ${p.enrolment.campaign_id}, ${p.enrolment.creator_id}, ${p.currency}, ${p.start.toISOString()}::timestamptz,
      ${p.end.toISOString()}::timestamptz, ${p.enrolment.terms_version}, ${p.target}, 'held', earnest_now(), earnest_now())
    on conflict do nothing`.execute(trx);
  const r = await sql<BonusPeriodRow>`select * from bonus_periods where enrolment_id = ${p.enrolment.id} and period_key = ${p.key} for update`.execute(trx);
  return normalise(r.rows[0] as BonusPeriodRow);
}

export type BonusPeriodUpdate = Partial<
  Pick<
    BonusPeriodRow,
    'status' | 'tier' | 'counted_results' | 'base_earnings' | 'due' | 'held' | 'held_net' | 'held_fee' | 'credited' | 'paid_net' | 'fees_paid' | 'clawed_back' | 'shortfall' | 'steps'
  >
> & { released?: boolean };

export async function updatePeriod(trx: Trx, row: BonusPeriodRow, u: BonusPeriodUpdate): Promise<void> {
  const { released, ...fields } = u;
  const sets = Object.entries(fields).map(([k, v]) => sql`${sql.ref(k)} = ${typeof v === 'bigint' ? v.toString() : v}`);
  if (released) sets.push(sql`released_at = earnest_now()`);
  sets.push(sql`updated_at = earnest_now()`);
  await sql`update bonus_periods set ${sql.join(sets)} where enrolment_id = ${row.enrolment_id} and period_key = ${row.period_key}`.execute(trx);
}

export type MovementKind = 'hold' | 'release' | 'pay' | 'clawback';

export async function appendMovement(
  trx: Trx,
  row: BonusPeriodRow,
  m: { step: number; kind: MovementKind; gross: bigint; net: bigint; fee: bigint; due: bigint; shortfall: bigint; transferIds: string[] },
): Promise<void> {
  await sql`insert into bonus_movements (enrolment_id, period_key, step, campaign_id, kind, gross, net, fee, due, shortfall, transfer_ids, at)
    values (${row.enrolment_id}, ${row.period_key}, ${m.step}, ${row.campaign_id}, ${m.kind}, ${m.gross.toString()}, ${m.net.toString()},
      ${m.fee.toString()}, ${m.due.toString()}, ${m.shortfall.toString()}, ${m.transferIds}::text[], earnest_now())`.execute(trx);
}

/** Bonus periods of a campaign still holding money, or closed periods not yet released: settlement waits for them. */
export async function heldBonusCount(db: Db, campaignId: string): Promise<number> {
  const r = await sql<{ n: bigint }>`select count(*) as n from bonus_periods where campaign_id = ${campaignId} and status = 'held'`.execute(db);
  return Number(r.rows[0]?.n ?? 0n);
}

export interface EscrowState {
  available: bigint;
  closed: boolean;
}

/** Locks the accounts a bonus step touches, in id order (as the ledger does), and reads them. */
export async function lockAccounts(trx: Trx, ids: string[]): Promise<Map<string, EscrowState>> {
  const r = await sql<{ id: string; closed: boolean; available: bigint }>`
    select id, closed, credits_posted - debits_posted - debits_pending as available from ledger_accounts
     where id = any(${ids}::text[]) order by id for update`.execute(trx);
  return new Map(r.rows.map((a) => [a.id, { available: BigInt(a.available), closed: a.closed }]));
}

/** Bonus money of a campaign from the journal, by the transfer ids its movements logged. */
export interface BonusFlows {
  /** 303/304 legs still pending. */
  held: bigint;
  /** 303 posted: net paid to creators. */
  paidNet: bigint;
  /** 304 posted: the platform's fee on bonuses. */
  fees: bigint;
  /** 601/602 of bonus clawbacks credited to the escrow. */
  clawedBackToEscrow: bigint;
  /** 601/602 of bonus clawbacks credited to the brand's wallet (the escrow was closed). */
  clawedBackToBrand: bigint;
  /** 402 of bonus clawbacks: the fee reduction returned to the escrow, or to the brand's wallet once it is closed. */
  feesReturnedToEscrow: bigint;
  feesReturnedToBrand: bigint;
  /** 401 guarantee adjustments of bonus clawbacks (a lowered bonus never raises the guarantee: expected 0). */
  guaranteeRefunds: bigint;
}

export async function bonusFlows(db: Db, campaignId: string, escrowId: string): Promise<BonusFlows> {
  const r = await sql<{ code: number; flags: number; credit_account_id: string; pending: boolean; amount: bigint }>`
    select t.code, t.flags, t.credit_account_id, (p.status = 'pending') as pending, t.amount
      from bonus_movements m cross join lateral unnest(m.transfer_ids) as x(id)
      join ledger_transfers t on t.id = x.id
      left join ledger_pending p on p.id = t.id
     where m.campaign_id = ${campaignId}`.execute(db);
  const flows: BonusFlows = {
    held: 0n,
    paidNet: 0n,
    fees: 0n,
    clawedBackToEscrow: 0n,
    clawedBackToBrand: 0n,
    feesReturnedToEscrow: 0n,
    feesReturnedToBrand: 0n,
    guaranteeRefunds: 0n,
  };
  for (const t of r.rows) {
    const amount = BigInt(t.amount);
    const isHold = (t.flags & 2) !== 0;
    const isVoid = (t.flags & 8) !== 0;
    if (isHold) {
      if (t.pending) flows.held += amount;
    } else if (isVoid) {
      // a released leg moves nothing
    } else if (t.code === 303) flows.paidNet += amount;
    else if (t.code === 304) flows.fees += amount;
    else if (t.code === 402 && t.credit_account_id === escrowId) flows.feesReturnedToEscrow += amount;
    else if (t.code === 402) flows.feesReturnedToBrand += amount;
    else if (t.code === 401) flows.guaranteeRefunds += amount;
    else if (t.credit_account_id === escrowId) flows.clawedBackToEscrow += amount;
    else flows.clawedBackToBrand += amount;
  }
  return flows;
}

/**
 * The bonus side of a campaign's fee standing (src/settlement): the fee reductions the bonus log
 * recorded at clawbacks (`bonus_movements.fee` of kind clawback), and what the journal moved for them.
 */
export async function bonusFeeReturns(
  db: Db,
  campaignId: string,
  escrowId: string,
): Promise<{ takenBack: bigint; returned: bigint; returnedToWallet: bigint; refunded: bigint }> {
  const taken = await sql<{ total: bigint | null }>`select sum(fee) as total from bonus_movements
     where campaign_id = ${campaignId} and kind = 'clawback'`.execute(db);
  const flows = await bonusFlows(db, campaignId, escrowId);
  return {
    takenBack: BigInt(taken.rows[0]?.total ?? 0n),
    returned: flows.feesReturnedToEscrow + flows.feesReturnedToBrand,
    returnedToWallet: flows.feesReturnedToBrand,
    refunded: flows.guaranteeRefunds,
  };
}
