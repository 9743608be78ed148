import type { Kysely, Transaction } from 'kysely';
import { inTransaction } from '../db/index.js';
import { AppError, assert } from '../errors/index.js';
import { allocate, Money, splitFee } from '../money/index.js';
import { createAccounts, createTransfers, createTransfersIn, lockedAvailable, lockedEscrowForSettlement, lookupTransfers } from './repository.js';
import {
  type AccountRequest,
  AccountFlags,
  LEDGER_LIMITS,
  type Transfer,
  TransferFlags as F,
  type TransferOutcome,
  type TransferRequest,
  type TransferResult,
} from './types.js';

/**
 * The chart of accounts (docs/ledger.md) and the money movements the product makes. Every movement
 * takes a caller-chosen id, derived from the business event it records, so running it again is safe.
 */
export const AccountCode = {
  world: 1,
  brand_wallet: 2,
  campaign_escrow: 3,
  creator_payable: 4,
  creator_receivable: 5,
  platform_fees: 6,
  payouts_in_transit: 7,
} as const;

export const TransferCode = {
  deposit: 101,
  withdrawal: 102,
  escrow_funding: 201,
  escrow_refund: 202,
  result_net: 301,
  result_fee: 302,
  bonus_net: 303,
  bonus_fee: 304,
  fee_refund: 401,
  fee_reversal: 402,
  payout_sent: 501,
  payout_completed: 502,
  payout_failed: 503,
  clawback: 601,
  clawback_shortfall: 602,
  account_closing: 901,
} as const;

export const AccountId = {
  world: (currency: string) => `world:${currency}`,
  wallet: (orgId: string, currency: string) => `wallet:${orgId}:${currency}`,
  escrow: (campaignId: string) => `escrow:${campaignId}`,
  payable: (creatorId: string, currency: string) => `payable:${creatorId}:${currency}`,
  receivable: (creatorId: string, currency: string) => `receivable:${creatorId}:${currency}`,
  fees: (currency: string) => `fees:${currency}`,
  transit: (currency: string) => `transit:${currency}`,
} as const;

const LIMITED = AccountFlags.debits_must_not_exceed_credits;
type Db = Kysely<any>;

export type Movement = { ok: true; transfers: Transfer[] } | { ok: false; result: TransferResult };

/** Idempotent account opening; a conflicting definition is a programmer error. */
async function open(db: Db, accounts: AccountRequest[]): Promise<void> {
  const outcomes = await createAccounts(db, accounts);
  for (const o of outcomes) assert(o.result === 'ok' || o.result === 'exists', `account ${o.id}: ${o.result}`);
}

function systemAccounts(currency: string): AccountRequest[] {
  return [
    // The world is the other side of money entering or leaving: its debits exceed its credits.
    { id: AccountId.world(currency), currency, code: AccountCode.world, flags: AccountFlags.credits_must_not_exceed_debits },
    { id: AccountId.fees(currency), currency, code: AccountCode.platform_fees, flags: LIMITED },
    { id: AccountId.transit(currency), currency, code: AccountCode.payouts_in_transit, flags: LIMITED },
  ];
}

export function openBrandWallet(db: Db, orgId: string, currency: string): Promise<void> {
  return open(db, [...systemAccounts(currency), { id: AccountId.wallet(orgId, currency), currency, code: AccountCode.brand_wallet, flags: LIMITED }]);
}

export function openEscrow(db: Db, campaignId: string, currency: string): Promise<void> {
  return open(db, [...systemAccounts(currency), { id: AccountId.escrow(campaignId), currency, code: AccountCode.campaign_escrow, flags: LIMITED }]);
}

export function openCreatorAccounts(db: Db, creatorId: string, currency: string): Promise<void> {
  return open(db, [
    ...systemAccounts(currency),
    { id: AccountId.payable(creatorId, currency), currency, code: AccountCode.creator_payable, flags: LIMITED },
    // What a creator owes back after a clawback larger than their payable: an asset, never credited past its debits.
    {
      id: AccountId.receivable(creatorId, currency),
      currency,
      code: AccountCode.creator_receivable,
      flags: AccountFlags.credits_must_not_exceed_debits,
    },
  ]);
}

function movement(outcomes: TransferOutcome[]): Movement {
  const failed = outcomes.find((o) => o.result !== 'ok' && o.result !== 'exists' && o.result !== 'linked_event_failed');
  if (failed) return { ok: false, result: failed.result };
  if (outcomes.some((o) => o.result === 'linked_event_failed')) return { ok: false, result: 'linked_event_failed' };
  return { ok: true, transfers: outcomes.map((o) => o.transfer as Transfer) };
}

function positive(amount: Money): bigint {
  if (amount.amount <= 0n) throw new AppError('invalid_amount', `amount must be positive, got ${amount.toString()}`);
  return amount.amount;
}

function plain(id: string, debit: string, credit: string, amount: Money, code: number): TransferRequest {
  return { id, debit_account_id: debit, credit_account_id: credit, amount: positive(amount), currency: amount.currency, code };
}

/** Money arrives from the payment provider into the brand's wallet. */
export async function deposit(db: Db, p: { id: string; orgId: string; amount: Money }): Promise<Movement> {
  const c = p.amount.currency;
  return movement(await createTransfers(db, [plain(p.id, AccountId.world(c), AccountId.wallet(p.orgId, c), p.amount, TransferCode.deposit)]));
}

/**
 * The transfers of a withdrawal, money leaving the brand's wallet back to the brand through the
 * payment provider. It is reserved before the provider is asked: `reserve` is a pending transfer
 * wallet → world (102) under the movement's id, which the wallet's limit refuses when it does not hold
 * the money; once the provider answered, `post` (`<id>.post`) lets the money go or `void`
 * (`<id>.void`) returns it. User data: the movement id.
 */
export function withdrawalRequest(step: 'reserve' | 'post' | 'void', p: { id: string; orgId: string; amount: Money }): TransferRequest {
  if (step === 'post') return { id: `${p.id}.post`, pending_id: p.id, flags: F.post_pending_transfer, user_data: p.id };
  if (step === 'void') return { id: `${p.id}.void`, pending_id: p.id, flags: F.void_pending_transfer, user_data: p.id };
  const c = p.amount.currency;
  return { ...plain(p.id, AccountId.wallet(p.orgId, c), AccountId.world(c), p.amount, TransferCode.withdrawal), flags: F.pending, user_data: p.id };
}

/** The brand commits budget to a campaign: wallet → escrow. */
export async function fundEscrow(db: Db, p: { id: string; orgId: string; campaignId: string; amount: Money }): Promise<Movement> {
  const c = p.amount.currency;
  return movement(
    await createTransfers(db, [plain(p.id, AccountId.wallet(p.orgId, c), AccountId.escrow(p.campaignId), p.amount, TransferCode.escrow_funding)]),
  );
}

/** Transfer ids of a result hold's legs: the creator's net and the platform's fee. */
export function holdLegIds(holdId: string): { net: string; fee: string } {
  return { net: `${holdId}.net`, fee: `${holdId}.fee` };
}

/**
 * The transfers of a hold on a campaign escrow: escrow → creator payable (net) and escrow → platform
 * fees (fee), pending and linked, so settling or voiding it moves both or neither. A zero leg is left
 * out. Ids are `<holdId>.net` and `<holdId>.fee`.
 */
export function holdRequests(p: {
  holdId: string;
  campaignId: string;
  creatorId: string;
  currency: string;
  net: bigint;
  fee: bigint;
  timeoutSeconds?: number;
  userData?: string;
  /** Transfer codes of the legs: a result's (301/302) unless said (a bonus's are 303/304). */
  codes?: { net: number; fee: number };
}): TransferRequest[] {
  const legs = holdLegIds(p.holdId);
  const codes = p.codes ?? { net: TransferCode.result_net, fee: TransferCode.result_fee };
  const escrow = AccountId.escrow(p.campaignId);
  const common = { debit_account_id: escrow, currency: p.currency, flags: F.pending, timeout: p.timeoutSeconds ?? 0, ...(p.userData ? { user_data: p.userData } : {}) };
  const requests: TransferRequest[] = [];
  if (p.net > 0n) requests.push({ ...common, id: legs.net, credit_account_id: AccountId.payable(p.creatorId, p.currency), amount: p.net, code: codes.net });
  if (p.fee > 0n) requests.push({ ...common, id: legs.fee, credit_account_id: AccountId.fees(p.currency), amount: p.fee, code: codes.fee });
  return linkChain(requests);
}

/** Resolves a hold's legs together (post or void), as one linked chain with ids `<resolutionId>.<leg>`. */
export function resolveHoldRequests(p: {
  resolutionId: string;
  legs: ReadonlyArray<{ leg: 'net' | 'fee'; pendingId: string; amount?: bigint }>;
  flag: typeof F.post_pending_transfer | typeof F.void_pending_transfer;
}): TransferRequest[] {
  return linkChain(
    p.legs.map((l) => ({
      id: `${p.resolutionId}.${l.leg}`,
      pending_id: l.pendingId,
      flags: p.flag,
      ...(l.amount !== undefined ? { amount: l.amount } : {}),
    })),
  );
}

/** Links transfers into one chain: they commit together or not at all. */
export function linkChain(requests: TransferRequest[]): TransferRequest[] {
  return requests.map((r, i) => (i < requests.length - 1 ? { ...r, flags: (r.flags ?? 0) | F.linked } : r));
}

/** A result's payout reserved on the campaign escrow (see holdRequests). */
export async function hold(
  db: Db,
  p: { id: string; campaignId: string; creatorId: string; gross: Money; feeBps: number; timeoutSeconds?: number },
): Promise<Movement> {
  const { fee, net } = splitFee(positive(p.gross), p.feeBps);
  const requests = holdRequests({ holdId: p.id, campaignId: p.campaignId, creatorId: p.creatorId, currency: p.gross.currency, net, fee, ...(p.timeoutSeconds ? { timeoutSeconds: p.timeoutSeconds } : {}) });
  return movement(await createTransfers(db, requests));
}

async function holdLegs(db: Db, holdId: string): Promise<Transfer[]> {
  const ids = holdLegIds(holdId);
  const legs = await lookupTransfers(db, [ids.net, ids.fee]);
  if (legs.length === 0) throw new AppError('not_found', `no hold ${holdId}`);
  return legs;
}

function legName(leg: Transfer): 'net' | 'fee' {
  return leg.code === TransferCode.result_net ? 'net' : 'fee';
}

/**
 * Settles a hold: posts both legs together. With `amount` less than the hold, each leg posts its
 * share of it (largest remainder, so the parts sum exactly) and the rest returns to the escrow.
 */
export async function postHold(db: Db, p: { id: string; holdId: string; amount?: Money }): Promise<Movement> {
  const legs = await holdLegs(db, p.holdId);
  const shares = p.amount === undefined ? legs.map((l) => l.amount) : allocate(p.amount.amount, legs.map((l) => l.amount));
  const requests = resolveHoldRequests({
    resolutionId: p.id,
    legs: legs.map((leg, i) => ({ leg: legName(leg), pendingId: leg.id, amount: shares[i] as bigint })),
    flag: F.post_pending_transfer,
  });
  return movement(await createTransfers(db, requests));
}

/** Rejects a hold: voids both legs, returning the whole amount to the escrow. */
export async function voidHold(db: Db, p: { id: string; holdId: string }): Promise<Movement> {
  const legs = await holdLegs(db, p.holdId);
  const requests = resolveHoldRequests({
    resolutionId: p.id,
    legs: legs.map((leg) => ({ leg: legName(leg), pendingId: leg.id })),
    flag: F.void_pending_transfer,
  });
  return movement(await createTransfers(db, requests));
}

/**
 * Campaign end: sweeps whatever the escrow still holds back to the brand's wallet (a balancing
 * transfer) and closes the escrow, atomically. Holds still pending stay reserved and keep the escrow
 * from closing: resolve them first. Returns the amount refunded.
 */
export async function settleEscrow(
  db: Db,
  p: { id: string; orgId: string; campaignId: string; currency: string },
): Promise<{ ok: true; refunded: Money } | { ok: false; result: TransferResult }> {
  const escrow = AccountId.escrow(p.campaignId);
  const sweep: TransferRequest = {
    id: `${p.id}.refund`,
    debit_account_id: escrow,
    credit_account_id: AccountId.wallet(p.orgId, p.currency),
    amount: LEDGER_LIMITS.amount_max,
    currency: p.currency,
    code: TransferCode.escrow_refund,
    flags: F.balancing_debit,
  };
  const close: TransferRequest = {
    id: `${p.id}.close`,
    debit_account_id: escrow,
    credit_account_id: AccountId.world(p.currency),
    amount: 0n,
    currency: p.currency,
    code: TransferCode.account_closing,
    flags: F.pending | F.closing_debit,
  };
  return inTransaction(db, async (trx) => {
    const done = await lookupTransfers(trx, [sweep.id, close.id]);
    if (done.some((t) => t.id === close.id)) {
      const refunded = done.find((t) => t.id === sweep.id)?.amount ?? 0n;
      return { ok: true as const, refunded: Money.of(refunded, p.currency) };
    }
    const row = await lockedEscrowForSettlement(trx, escrow);
    if (!row) throw new AppError('not_found', `no escrow for campaign ${p.campaignId}`);
    if (row.pending > 0n) {
      throw new AppError('conflict', `escrow of campaign ${p.campaignId} still has ${row.pending} reserved by pending holds`);
    }
    const requests = row.available > 0n ? [{ ...sweep, flags: F.balancing_debit | F.linked }, close] : [close];
    const m = movement(await createTransfersIn(trx, requests));
    if (!m.ok) return m;
    const refunded = m.transfers.find((t) => t.id === sweep.id)?.amount ?? 0n;
    return { ok: true as const, refunded: Money.of(refunded, p.currency) };
  });
}

/** The money-back guarantee: the platform returns fees it earned on a campaign to the brand's wallet. */
export async function refundFees(db: Db, p: { id: string; orgId: string; amount: Money }): Promise<Movement> {
  const c = p.amount.currency;
  return movement(await createTransfers(db, [plain(p.id, AccountId.fees(c), AccountId.wallet(p.orgId, c), p.amount, TransferCode.fee_refund)]));
}

/**
 * An event that takes a platform fee off a campaign's standing fees: a paid result reversed, or a tier
 * bonus lowered by a reversal. Fraud never pays the platform either: the fee goes back to the brand.
 */
export interface FeeReturnEvent {
  campaignId: string;
  orgId: string;
  currency: string;
  /** The fee the platform had posted for what is taken back (≥ 0): the settled fee leg, or the bonus fee's reduction. */
  fee: bigint;
  /** Id prefix of the transfers: `<id>.fee` (402, the fee) and `<id>.guarantee` (401, a guarantee adjustment). */
  id: string;
  userData: string;
  /** A result this event takes out of the validated count (a reversal), if any: the guarantee is on standing results. */
  resultId?: string;
  /** The campaign's escrow is still open (not settled): the fee goes back into it, and the guarantee is not decided yet. */
  escrowOpen: boolean;
}

/**
 * The transfers that return an event's fee (settlement decides them: src/settlement/fee-return.ts, which
 * knows the guarantee). Called in the event's transaction, with the campaign's escrow, the fee account
 * and the brand's wallet locked, before the event's own state (the result's status, the bonus log) is
 * written; the caller submits them, linked with the event's other transfers.
 */
export type FeeReturn = (trx: Transaction<any>, e: FeeReturnEvent) => Promise<TransferRequest[]>;

/** The transfers of a payout's life: sent (payable → transit), completed (transit → world), failed (transit → payable). */
export function payoutRequest(
  step: 'sent' | 'completed' | 'failed',
  p: { id: string; creatorId: string; amount: Money; userData?: string },
): TransferRequest {
  const c = p.amount.currency;
  const [debit, credit, code] = {
    sent: [AccountId.payable(p.creatorId, c), AccountId.transit(c), TransferCode.payout_sent],
    completed: [AccountId.transit(c), AccountId.world(c), TransferCode.payout_completed],
    failed: [AccountId.transit(c), AccountId.payable(p.creatorId, c), TransferCode.payout_failed],
  }[step] as [string, string, number];
  return { ...plain(p.id, debit, credit, p.amount, code), ...(p.userData ? { user_data: p.userData } : {}) };
}

/** A payout leaves the creator's payable and waits in transit until the provider confirms it. */
export async function sendPayout(db: Db, p: { id: string; creatorId: string; amount: Money }): Promise<Movement> {
  return movement(await createTransfers(db, [payoutRequest('sent', p)]));
}

export async function completePayout(db: Db, p: { id: string; creatorId: string; amount: Money }): Promise<Movement> {
  return movement(await createTransfers(db, [payoutRequest('completed', p)]));
}

/** A failed payout returns the money to the creator's payable. */
export async function failPayout(db: Db, p: { id: string; creatorId: string; amount: Money }): Promise<Movement> {
  return movement(await createTransfers(db, [payoutRequest('failed', p)]));
}

/**
 * Takes back money paid for a result later found invalid: from the creator's payable as far as it
 * goes, the shortfall booked on the creator's receivable (never a negative payable), both to the
 * campaign escrow, in one linked chain.
 */
export async function clawback(
  db: Db,
  p: { id: string; creatorId: string; campaignId: string; amount: Money },
): Promise<Movement & { shortfall?: Money }> {
  const c = p.amount.currency;
  const total = positive(p.amount);
  const ids = { payable: `${p.id}.payable`, receivable: `${p.id}.receivable` };
  return inTransaction(db, async (trx) => {
    const done = await lookupTransfers(trx, [ids.payable, ids.receivable]);
    if (done.length > 0) return { ok: true as const, transfers: done };
    const payable = AccountId.payable(p.creatorId, c);
    const [locked] = await lockedAvailable(trx, payable);
    const available = locked?.available ?? 0n;
    const fromPayable = available <= 0n ? 0n : available < total ? available : total;
    const shortfall = total - fromPayable;
    const requests: TransferRequest[] = [];
    const escrow = AccountId.escrow(p.campaignId);
    if (fromPayable > 0n) requests.push({ id: ids.payable, debit_account_id: payable, credit_account_id: escrow, amount: fromPayable, currency: c, code: TransferCode.clawback });
    if (shortfall > 0n) {
      requests.push({ id: ids.receivable, debit_account_id: AccountId.receivable(p.creatorId, c), credit_account_id: escrow, amount: shortfall, currency: c, code: TransferCode.clawback_shortfall });
    }
    const m = movement(await createTransfersIn(trx, linkChain(requests)));
    return m.ok && shortfall > 0n ? { ...m, shortfall: Money.of(shortfall, c) } : m;
  });
}

/**
 * The transfers of a clawback of `amount` from a creator: from their payable as far as
 * `payableAvailable` goes (601), the shortfall booked on their receivable (602), both credited to
 * `creditAccountId` (the campaign escrow, or the brand's wallet once the escrow is closed), as one
 * linked chain with ids `<id>.payable` and `<id>.receivable` (a zero leg is left out). The caller
 * reads `payableAvailable` with the payable locked, in the transaction that submits the chain.
 */
export function clawbackRequests(p: {
  id: string;
  creatorId: string;
  currency: string;
  amount: bigint;
  payableAvailable: bigint;
  creditAccountId: string;
  userData?: string;
}): TransferRequest[] {
  assert(p.amount > 0n, `a clawback moves a positive amount, got ${p.amount}`);
  const fromPayable = p.payableAvailable <= 0n ? 0n : p.payableAvailable < p.amount ? p.payableAvailable : p.amount;
  const shortfall = p.amount - fromPayable;
  const common = { credit_account_id: p.creditAccountId, currency: p.currency, ...(p.userData ? { user_data: p.userData } : {}) };
  const requests: TransferRequest[] = [];
  if (fromPayable > 0n) {
    requests.push({ ...common, id: `${p.id}.payable`, debit_account_id: AccountId.payable(p.creatorId, p.currency), amount: fromPayable, code: TransferCode.clawback });
  }
  if (shortfall > 0n) {
    requests.push({
      ...common,
      id: `${p.id}.receivable`,
      debit_account_id: AccountId.receivable(p.creatorId, p.currency),
      amount: shortfall,
      code: TransferCode.clawback_shortfall,
    });
  }
  return linkChain(requests);
}

/**
 * `clawback()` for a campaign already settled, whose escrow is closed: the money taken back from the
 * creator goes to the brand's wallet instead (same codes, same split between payable and receivable,
 * same idempotent ids). Returns the shortfall booked on the receivable, if any.
 */
export async function clawbackToWallet(
  db: Db,
  p: { id: string; creatorId: string; orgId: string; amount: Money; userData?: string },
): Promise<Movement & { shortfall?: Money }> {
  const c = p.amount.currency;
  const total = positive(p.amount);
  return inTransaction(db, async (trx) => {
    const done = await lookupTransfers(trx, [`${p.id}.payable`, `${p.id}.receivable`]);
    if (done.length > 0) return { ok: true as const, transfers: done };
    const payable = AccountId.payable(p.creatorId, c);
    const [locked] = await lockedAvailable(trx, payable);
    const requests = clawbackRequests({
      id: p.id,
      creatorId: p.creatorId,
      currency: c,
      amount: total,
      payableAvailable: BigInt(locked?.available ?? 0n),
      creditAccountId: AccountId.wallet(p.orgId, c),
      ...(p.userData ? { userData: p.userData } : {}),
    });
    const m = movement(await createTransfersIn(trx, requests));
    const shortfall = requests.find((t) => t.code === TransferCode.clawback_shortfall)?.amount ?? 0n;
    return m.ok && shortfall > 0n ? { ...m, shortfall: Money.of(shortfall, c) } : m;
  });
}
