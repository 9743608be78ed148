import { type Kysely, sql, type Transaction } from 'kysely';
import { inTransaction } from '../db/index.js';
import { AppError, assert } from '../errors/index.js';
import { newId } from '../ids/index.js';
import { createTransfersIn, payoutRequest, type TransferOutcome, type TransferRequest } from '../ledger/index.js';
import { Money } from '../money/index.js';
import { batchCounts, getPayout, insertPending, lockBatch, lockPayout, lockPayouts, markAccepted, markCompleted, markFailed, markSent, payableCandidates, type Payout, type PayoutAnswer, type PayoutProvider, unfinishedBatches, unsubmitted } from '../payouts/index.js';

/**
 * Payouts: creators' payable balances at or above the minimum go out in batches through a provider.
 *
 *   pending   recorded; the money is still in the creator's payable
 *   sent      the ledger moved it payable → in transit (501, id `<payout>.sent`), then the provider got it
 *   completed the provider paid: in transit → world (502, `<payout>.completed`)
 *   failed    the provider refused: in transit → payable (503, `<payout>.failed`), or it never left
 *
 * Each status change and its ledger transfer commit in one transaction with the payout row locked, so
 * a completion racing a failure moves money once: the transfers come from the ledger's
 * `payoutRequest` (the same ones `sendPayout`, `completePayout` and `failPayout` make in their own
 * transactions) and go in with the payout's. Every step is idempotent on the payout id, and a batch is handed to the provider under
 * one reference, which providers treat as an idempotency key: a rerun after a crash never pays twice.
 */
type Db = Kysely<any>;
type Trx = Transaction<any>;

export const PAYOUT_LIMITS = { batch_size_default: 200, batch_size_max: 1000, batches_per_run_max: 100 } as const;

export interface PayoutRunReport {
  /** Provider references of the batches this run handled (including unfinished ones it resumed). */
  batches: string[];
  /** Payouts this run recorded (resumed ones not included). */
  created: number;
  /** The batches' payouts by status, after the run. */
  pending: number;
  sent: number;
  completed: number;
  failed: number;
}

export async function runPayouts(db: Db, provider: PayoutProvider, p: { minimumMinor: bigint; batchSize?: number }): Promise<PayoutRunReport> {
  const batchSize = p.batchSize ?? PAYOUT_LIMITS.batch_size_default;
  assert(Number.isInteger(batchSize) && batchSize >= 1 && batchSize <= PAYOUT_LIMITS.batch_size_max, `batch size ${batchSize} out of range`);
  assert(p.minimumMinor >= 1n, 'the payout minimum must be positive');
  const batches = await unfinishedBatches(db, provider.name);
  for (const reference of batches) await processBatch(db, provider, reference);
  const handled: string[] = [];
  for (let i = 0; i < PAYOUT_LIMITS.batches_per_run_max; i++) {
    const batch = await createBatch(db, provider, { minimum: p.minimumMinor, limit: batchSize, skip: handled });
    if (!batch) break;
    handled.push(...batch.creators);
    batches.push(batch.reference);
    await processBatch(db, provider, batch.reference);
  }
  return summarise(batches, handled.length, await batchCounts(db, batches));
}

function summarise(batches: string[], created: number, counts: Awaited<ReturnType<typeof batchCounts>>): PayoutRunReport {
  const report: PayoutRunReport = { batches, created, pending: 0, sent: 0, completed: 0, failed: 0 };
  for (const c of counts) report[c.status] += Number(c.n);
  return report;
}

/**
 * Records one batch of pending payouts: every eligible creator's whole available payable. An advisory
 * lock makes concurrent runs take turns, so two never record a payout for the same money.
 */
async function createBatch(
  db: Db,
  provider: PayoutProvider,
  p: { minimum: bigint; limit: number; skip: readonly string[] },
): Promise<{ reference: string; creators: string[] } | undefined> {
  return inTransaction(db, async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext(current_schema() || '.earnest_payout_batches'))`.execute(trx);
    const candidates = await payableCandidates(trx, p);
    if (candidates.length === 0) return undefined;
    const reference = provider.batchReference(newId('po').replace(/^po_/, 'pob_'));
    const rows = candidates.map((c) => ({ id: newId('po'), creator_id: c.creator_id, amount: c.available, currency: c.currency }));
    await insertPending(trx, { provider: provider.name, reference }, rows);
    return { reference, creators: candidates.map((c) => c.creator_id) };
  });
}

async function processBatch(db: Db, provider: PayoutProvider, reference: string): Promise<void> {
  await sendBatch(db, reference);
  const items = await unsubmitted(db, reference);
  if (items.length === 0) return;
  const answers = await provider.submit({
    reference,
    items: items.map((i) => ({ ...i, amount: Money.of(i.amount, i.currency) })),
  });
  assert(
    answers.length === items.length && items.every((i) => answers.some((a) => a.payout_id === i.payout_id)),
    `provider ${provider.name} must answer every payout of batch ${reference} once`,
  );
  await applyAnswers(db, answers);
}

/** pending → sent: the money leaves the payable for transit. A payable that no longer holds it fails the payout (nothing moved). */
async function sendBatch(db: Db, reference: string): Promise<void> {
  await inTransaction(db, async (trx) => {
    const rows = await lockBatch(trx, reference, 'pending');
    if (rows.length === 0) return;
    const outcomes = await createTransfersIn(trx, rows.map(sentTransfer));
    const moved = rows.filter((_, i) => succeeded(outcomes[i]));
    const refused = rows.flatMap((r, i) => (succeeded(outcomes[i]) ? [] : [{ id: r.id, failure: `the ledger refused the payout: ${outcomes[i]?.result}` }]));
    await markSent(trx, moved.map((r) => r.id));
    await markFailed(trx, refused);
  });
}

async function applyAnswers(db: Db, answers: readonly PayoutAnswer[]): Promise<void> {
  await inTransaction(db, async (trx) => {
    const rows = new Map((await lockPayouts(trx, answers.map((a) => a.payout_id))).map((r) => [r.id, r]));
    // A payout an operator already resolved keeps its outcome.
    const open = answers.filter((a) => rows.get(a.payout_id)?.status === 'sent');
    const completed = open.flatMap((a) => (a.status === 'completed' ? [rows.get(a.payout_id) as Payout] : []));
    const failed = open.flatMap((a) => (a.status === 'failed' ? [{ payout: rows.get(a.payout_id) as Payout, failure: a.failure }] : []));
    await resolve(trx, completed, failed);
    await markAccepted(trx, open.filter((a) => a.status === 'sent').map((a) => a.payout_id));
  });
}

/** Moves the money of `sent` payouts to its end (world or back to payable) and records their outcome. */
async function resolve(trx: Trx, completed: readonly Payout[], failed: ReadonlyArray<{ payout: Payout; failure: string }>): Promise<void> {
  const requests = [...completed.map(completedTransfer), ...failed.map((f) => failedTransfer(f.payout))];
  if (requests.length === 0) return;
  const outcomes = await createTransfersIn(trx, requests);
  const bad = outcomes.find((o) => !succeeded(o));
  assert(!bad, `resolving payout transfer ${bad?.id} failed: ${bad?.result}`);
  await markCompleted(trx, completed.map((p) => p.id));
  await markFailed(trx, failed.map((f) => ({ id: f.payout.id, failure: f.failure })));
}

/** An operator confirms a manual payout was paid. Completing a completed payout answers it unchanged. */
export async function markPayoutCompleted(db: Db, id: string): Promise<Payout> {
  await inTransaction(db, async (trx) => {
    const p = await lockPayout(trx, id);
    if (p.status === 'completed') return;
    if (p.status !== 'sent') throw new AppError('invalid_state', `payout ${id} is ${p.status}; only sent payouts can be completed`);
    await resolve(trx, [p], []);
  });
  return getPayout(db, id);
}

/**
 * An operator records that a payout failed: money in transit returns to the creator's payable (a
 * payout still pending never left it). Failing a failed payout answers it unchanged.
 */
export async function markPayoutFailed(db: Db, id: string, reason: string): Promise<Payout> {
  await inTransaction(db, async (trx) => {
    const p = await lockPayout(trx, id);
    if (p.status === 'failed') return;
    if (p.status === 'completed') throw new AppError('invalid_state', `payout ${id} is completed; a completed payout cannot fail`);
    if (p.status === 'pending') await markFailed(trx, [{ id, failure: reason }]);
    else await resolve(trx, [], [{ payout: p, failure: reason }]);
  });
  return getPayout(db, id);
}

function succeeded(o: TransferOutcome | undefined): boolean {
  return o?.result === 'ok' || o?.result === 'exists';
}

/** user_data carries the payout id, so the journal alone says which payouts are in transit. */
function stepTransfer(step: 'sent' | 'completed' | 'failed', p: Payout): TransferRequest {
  return payoutRequest(step, { id: `${p.id}.${step}`, creatorId: p.creator_id, amount: Money.of(p.amount, p.currency), userData: p.id });
}

function sentTransfer(p: Payout): TransferRequest {
  return stepTransfer('sent', p);
}

function completedTransfer(p: Payout): TransferRequest {
  return stepTransfer('completed', p);
}

function failedTransfer(p: Payout): TransferRequest {
  return stepTransfer('failed', p);
}
