import { type Kysely, sql } from 'kysely';
import { AccountId, TransferCode } from '../ledger/index.js';

/** The tables this module owns (only it writes them) and those of other modules it may read. */
export const TABLES = { owns: [], reads: ['campaigns', 'campaign_terms', 'enrolments', 'results', 'bonus_periods', 'ledger_transfers'] } as const;

/**
 * Read-only queries settlement needs across domains (campaigns, results, the ledger's journal).
 * Settlement writes nothing here: it changes state only through the domains' own functions
 * (`approveDue`, `transition`, `settleEscrow`, `refundFees`).
 */
type Db = Kysely<any>;

/** Campaigns still open whose current terms' `ends_at` has passed on the database clock. */
export async function campaignsPastEnd(db: Db, limit: number): Promise<string[]> {
  const r = await sql<{ id: string }>`select c.id from campaigns c
      join campaign_terms t on t.campaign_id = c.id and t.version = c.terms_version
     where c.status in ('draft', 'funded', 'active', 'paused')
       and (t.terms ->> 'ends_at')::timestamptz <= earnest_now()
     order by c.id limit ${limit}`.execute(db);
  return r.rows.map((x) => x.id);
}

/**
 * Ended campaigns with no result pending, in review or awaiting funds left: every hold is resolved,
 * so they can be settled. A campaign with results in review waits for the operators' decisions, one
 * with results awaiting funds for their grace period (the brand may still top up).
 */
export async function campaignsReadyToSettle(db: Db, limit: number): Promise<string[]> {
  const r = await sql<{ id: string }>`select c.id from campaigns c
     where c.status = 'ended'
       and not exists (select 1 from results r where r.campaign_id = c.id and r.status in ('pending', 'review', 'awaiting_funds'))
       and not exists (select 1 from bonus_periods b where b.campaign_id = c.id and b.status = 'held')
     order by c.id limit ${limit}`.execute(db);
  return r.rows.map((x) => x.id);
}

export async function approvedCount(db: Db, campaignId: string): Promise<number> {
  // A conversion credited to several creators is one result for the KPI, however many parts it was paid in.
  const r = await sql<{ n: bigint }>`select count(distinct (kind, source_id)) as n from results
     where campaign_id = ${campaignId} and status = 'approved'`.execute(db);
  return Number(r.rows[0]?.n ?? 0n);
}

/** Money that went in and out of a campaign's escrow, summed from the journal by transfer code. */
export interface EscrowFlows {
  /** 201 escrow funding, credited. */
  funded: bigint;
  /** 301 result net, posted: what creators were paid. */
  paidToCreators: bigint;
  /** 302 result fee and 304 bonus fee, posted: what the platform earned, before any guarantee refund. */
  platformFees: bigint;
  /** 303 bonus net, posted: tier bonuses paid to creators (src/bonuses). */
  bonusesToCreators: bigint;
  /** 304 bonus fee, posted (part of platformFees). */
  bonusFees: bigint;
  /** 601 + 602 clawbacks of bonuses (ids `bonus:…`), credited back to the escrow (not part of clawedBack). */
  bonusesClawedBack: bigint;
  /** 202 escrow refund: unspent budget returned to the brand. */
  unspentRefunded: bigint;
  /** 601 + 602 clawbacks, credited back to the escrow. */
  clawedBack: bigint;
  /** 402 fee returns credited back to the escrow: fees of results reversed, and bonus fee reductions, while it was open. */
  feesReturned: bigint;
  /** The bonus part of feesReturned (ids `bonus:…`). */
  bonusFeesReturned: bigint;
  /** Posted movements with any other code (none are expected: they would break the statement's identity). */
  otherIn: bigint;
  otherOut: bigint;
}

/**
 * Posted transfers only: a pending hold (flag 2) is not money moved, and a void or expiry (flag 8)
 * moves nothing. A post of a hold carries the hold's code and accounts and the amount posted.
 */
export async function escrowFlows(db: Db, campaignId: string): Promise<EscrowFlows> {
  const escrow = AccountId.escrow(campaignId);
  const r = await sql<{ code: number; incoming: boolean; bonus: boolean; total: bigint }>`
    select code, credit_account_id = ${escrow} as incoming, id like 'bonus:%' as bonus, sum(amount) as total
      from ledger_transfers
     where (debit_account_id = ${escrow} or credit_account_id = ${escrow}) and flags & 2 = 0 and flags & 8 = 0
     group by code, incoming, bonus`.execute(db);
  const flows: EscrowFlows = {
    funded: 0n,
    paidToCreators: 0n,
    platformFees: 0n,
    bonusesToCreators: 0n,
    bonusFees: 0n,
    bonusesClawedBack: 0n,
    unspentRefunded: 0n,
    clawedBack: 0n,
    feesReturned: 0n,
    bonusFeesReturned: 0n,
    otherIn: 0n,
    otherOut: 0n,
  };
  for (const row of r.rows) {
    const total = BigInt(row.total);
    const clawback = row.code === TransferCode.clawback || row.code === TransferCode.clawback_shortfall;
    if (row.incoming && row.code === TransferCode.escrow_funding) flows.funded += total;
    else if (row.incoming && clawback && row.bonus) flows.bonusesClawedBack += total;
    else if (row.incoming && clawback) flows.clawedBack += total;
    else if (row.incoming && row.code === TransferCode.fee_reversal) {
      flows.feesReturned += total;
      if (row.bonus) flows.bonusFeesReturned += total;
    }
    else if (row.incoming) flows.otherIn += total;
    else if (row.code === TransferCode.result_net) flows.paidToCreators += total;
    else if (row.code === TransferCode.result_fee) flows.platformFees += total;
    else if (row.code === TransferCode.bonus_net) flows.bonusesToCreators += total;
    else if (row.code === TransferCode.bonus_fee) {
      flows.platformFees += total;
      flows.bonusFees += total;
    }
    else if (row.code === TransferCode.escrow_refund) flows.unspentRefunded += total;
    else flows.otherOut += total;
  }
  return flows;
}

/**
 * Clawbacks of this campaign's reversed results that went to the brand's wallet because the escrow
 * was already closed (the campaign settled): they never pass through the escrow, so `escrowFlows`
 * cannot see them. Found by the reversal's transfer ids (`<result>.reverse.payable` / `.receivable`).
 */
export async function clawbacksToBrand(db: Db, campaignId: string): Promise<bigint> {
  const escrow = AccountId.escrow(campaignId);
  const r = await sql<{ total: bigint | null }>`select sum(t.amount) as total from results r
      join ledger_transfers t on t.id in (r.id || '.reverse.payable', r.id || '.reverse.receivable')
     where r.campaign_id = ${campaignId} and r.status = 'reversed' and t.credit_account_id <> ${escrow}`.execute(db);
  return BigInt(r.rows[0]?.total ?? 0n);
}

/**
 * What became of a campaign's platform fees, from the journal and the campaign's reversals: the
 * inputs of a fee return (src/settlement/fee-return.ts) and of the statement's fee figures.
 */
export interface FeeStanding {
  /** 302 + 304 posted out of the escrow: every fee the platform ever earned on the campaign. */
  gross: bigint;
  /** Fees of what was taken back: reversed results' posted fee legs (`<result>.settle.fee`) and bonus fee reductions (the bonus log). */
  takenBack: bigint;
  /** 402 moved back to the brand for them (`<result>.reverse.fee`, bonus `….fee`), into the escrow or the wallet. */
  returned: bigint;
  /** The part of `returned` that went to the brand's wallet (the escrow was closed). */
  returnedToWallet: bigint;
  /** 401 guarantee refunds: `guarantee:<campaign>` and the adjustments of reversals after close (`<result>.reverse.guarantee`). */
  refunded: bigint;
  /** Approved results (a conversion split among creators counts once). */
  validated: number;
}

/**
 * The campaign's fee standing; `exclude` is a result being reversed in the caller's transaction, not yet
 * marked: its fee is not in `takenBack` and it no longer counts as validated. Bonus figures come from
 * the bonus module's log (`bonus`, by `bonusFeeReturns`).
 */
export async function feeStanding(
  db: Db,
  campaignId: string,
  bonus: { takenBack: bigint; returned: bigint; returnedToWallet: bigint; refunded: bigint },
  exclude?: string,
): Promise<FeeStanding> {
  const escrow = AccountId.escrow(campaignId);
  const gross = await sql<{ total: bigint | null }>`select sum(amount) as total from ledger_transfers
     where debit_account_id = ${escrow} and code in (${TransferCode.result_fee}, ${TransferCode.bonus_fee}) and flags & 2 = 0 and flags & 8 = 0`.execute(db);
  const other = exclude ?? '';
  const results = await sql<{ taken_back: bigint | null; returned: bigint | null; to_wallet: bigint | null; refunded: bigint | null }>`
    select sum(s.amount) filter (where s.flags & 4 <> 0) as taken_back, sum(f.amount) as returned,
           sum(f.amount) filter (where f.credit_account_id <> ${escrow}) as to_wallet, sum(g.amount) as refunded
      from results r
      left join ledger_transfers s on s.id = r.id || '.settle.fee'
      left join ledger_transfers f on f.id = r.id || '.reverse.fee'
      left join ledger_transfers g on g.id = r.id || '.reverse.guarantee'
     where r.campaign_id = ${campaignId} and r.status = 'reversed' and r.id <> ${other}`.execute(db);
  const [guarantee] = await sql<{ amount: bigint }>`select amount from ledger_transfers where id = ${`guarantee:${campaignId}`}`.execute(db).then((x) => x.rows);
  const validated = await sql<{ n: bigint }>`select count(distinct (kind, source_id)) as n from results
     where campaign_id = ${campaignId} and status = 'approved' and id <> ${other}`.execute(db);
  const row = results.rows[0];
  return {
    gross: BigInt(gross.rows[0]?.total ?? 0n),
    takenBack: BigInt(row?.taken_back ?? 0n) + bonus.takenBack,
    returned: BigInt(row?.returned ?? 0n) + bonus.returned,
    returnedToWallet: BigInt(row?.to_wallet ?? 0n) + bonus.returnedToWallet,
    refunded: BigInt(guarantee?.amount ?? 0n) + BigInt(row?.refunded ?? 0n) + bonus.refunded,
    validated: Number(validated.rows[0]?.n ?? 0n),
  };
}

export interface ResultTally {
  status: string;
  count: number;
  reasons: Record<string, number>;
}

/** A campaign's results by status, with how often each reason code was given. */
/** A campaign's results by status with their reasons; one creator's only when `creatorId` is given. */
export async function resultTallies(db: Db, campaignId: string, creatorId?: string): Promise<ResultTally[]> {
  const creator = creatorId === undefined ? sql`` : sql`and creator_id = ${creatorId}`;
  const counts = await sql<{ status: string; n: bigint }>`select status, count(*) as n from results
     where campaign_id = ${campaignId} ${creator} group by status`.execute(db);
  const reasons = await sql<{ status: string; reason: string; n: bigint }>`
    select status, reason, count(*) as n from results, unnest(reasons) as reason
     where campaign_id = ${campaignId} ${creator} group by status, reason order by status, reason`.execute(db);
  return counts.rows.map((c) => ({
    status: c.status,
    count: Number(c.n),
    reasons: Object.fromEntries(reasons.rows.filter((x) => x.status === c.status).map((x) => [x.reason, Number(x.n)])),
  }));
}

/**
 * Each creator's part of a campaign: results (parts, for conversions split among creators), the
 * conversions credited to them — a whole result counts 1, a part its share — and the payout earned
 * (approved, after caps), still held (pending or in review) and waiting for funds, gross of the platform fee.
 */
export interface CreatorTally {
  creator_id: string;
  results: number;
  shared_results: number;
  credited: number;
  earned: bigint;
  held: bigint;
  /** Payouts of results waiting for funds (no hold yet). */
  awaiting: bigint;
}

export async function creatorTallies(db: Db, campaignId: string): Promise<CreatorTally[]> {
  const r = await sql<{
    creator_id: string;
    results: bigint;
    shared_results: bigint;
    credited: number | null;
    earned: bigint | null;
    held: bigint | null;
    awaiting: bigint | null;
  }>`
    select creator_id, count(*) as results, count(*) filter (where share is not null) as shared_results,
           sum(coalesce(share, 1)) filter (where status in ('pending', 'review', 'approved')) as credited,
           sum(coalesce(paid_gross, gross)) filter (where status = 'approved') as earned,
           sum(gross) filter (where status in ('pending', 'review')) as held,
           sum(gross) filter (where status = 'awaiting_funds') as awaiting
      from results where campaign_id = ${campaignId} group by creator_id order by creator_id`.execute(db);
  return r.rows.map((x) => ({
    creator_id: x.creator_id,
    results: Number(x.results),
    shared_results: Number(x.shared_results),
    credited: Number(x.credited ?? 0),
    earned: BigInt(x.earned ?? 0n),
    held: BigInt(x.held ?? 0n),
    awaiting: BigInt(x.awaiting ?? 0n),
  }));
}

/** Whether the creator is enrolled in the campaign (joined it, on any version of its terms). */
export async function hasJoined(db: Db, campaignId: string, creatorId: string): Promise<boolean> {
  const r = await sql`select 1 from enrolments where campaign_id = ${campaignId} and creator_id = ${creatorId}`.execute(db);
  return r.rows.length > 0;
}
