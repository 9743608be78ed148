import { randomBytes } from 'node:crypto';
import { link, mkdir, open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '../config/index.js';
import { formatAmount, type Money } from '../money/index.js';

/**
 * Where creators' money goes out. A provider takes a batch of payouts and answers each one:
 * `completed` (paid), `failed` (refused, with a reason) or `sent` (accepted, confirmation comes later —
 * an operator marks it completed or failed). Submitting the same batch (same reference) again must
 * pay nothing twice and answer the same: a crash after the provider accepted a batch but before its
 * answer was recorded is recovered by submitting it again.
 */
export interface PayoutItem {
  payout_id: string;
  creator_id: string;
  payee_name: string;
  payee_email: string;
  amount: Money;
}

export type PayoutAnswer =
  | { payout_id: string; status: 'sent' }
  | { payout_id: string; status: 'completed' }
  | { payout_id: string; status: 'failed'; failure: string };

export interface PayoutBatch {
  /** The provider's reference for the batch, from `batchReference` (stored on every payout in it). */
  reference: string;
  items: readonly PayoutItem[];
}

export interface PayoutProvider {
  readonly name: 'manual' | 'test';
  batchReference(batchId: string): string;
  submit(batch: PayoutBatch): Promise<PayoutAnswer[]>;
}

export const CSV_HEADER = 'payee,name,email,amount,currency,reference';

/**
 * Manual payouts: one CSV file per batch in `dir` (payee, name, email, amount, currency, reference),
 * which an operator pays by hand and then marks each payout completed or failed. The file appears
 * atomically (written aside, then hard-linked into place, which fails if it exists): a reader never
 * sees half a file, and a resubmitted batch never writes a second file.
 */
export class ManualPayoutProvider implements PayoutProvider {
  readonly name = 'manual';
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  batchReference(batchId: string): string {
    return `payouts-${batchId}.csv`;
  }

  async submit(batch: PayoutBatch): Promise<PayoutAnswer[]> {
    await mkdir(this.dir, { recursive: true });
    const target = join(this.dir, batch.reference);
    const aside = join(this.dir, `.${batch.reference}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    const file = await open(aside, 'wx');
    try {
      await file.writeFile(payoutCsv(batch.items));
      await file.sync();
    } finally {
      await file.close();
    }
    try {
      await link(aside, target);
    } catch (e) {
      // Already delivered by an earlier (interrupted) run: the first file stands.
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      await unlink(aside);
    }
    return batch.items.map((i) => ({ payout_id: i.payout_id, status: 'sent' as const }));
  }
}

export function payoutCsv(items: readonly PayoutItem[]): string {
  const rows = items.map((i) =>
    [i.creator_id, i.payee_name, i.payee_email, formatAmount(i.amount.amount, i.amount.currency), i.amount.currency, i.payout_id]
      .map(csvCell)
      .join(','),
  );
  return `${[CSV_HEADER, ...rows].join('\r\n')}\r\n`;
}

/** RFC 4180 quoting, and a leading apostrophe on cells a spreadsheet would run as a formula. */
export function csvCell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Pays at once, for development, tests and the demo; `failFor` makes it refuse one creator. */
export class TestPayoutProvider implements PayoutProvider {
  readonly name = 'test';
  readonly #failing = new Map<string, string>();
  readonly #answers = new Map<string, PayoutAnswer>();
  /** Every payout paid or refused, once each, in order (tests check nothing was paid twice). */
  readonly submitted: PayoutItem[] = [];

  batchReference(batchId: string): string {
    return `test-${batchId}`;
  }

  failFor(creatorId: string, reason = 'refused by the test provider'): void {
    this.#failing.set(creatorId, reason);
  }

  succeedFor(creatorId: string): void {
    this.#failing.delete(creatorId);
  }

  /** Like a real provider with idempotency keys: a payout seen before gets its first answer again. */
  async submit(batch: PayoutBatch): Promise<PayoutAnswer[]> {
    return batch.items.map((i) => {
      const known = this.#answers.get(i.payout_id);
      if (known) return known;
      const failure = this.#failing.get(i.creator_id);
      const answer: PayoutAnswer =
        failure === undefined ? { payout_id: i.payout_id, status: 'completed' } : { payout_id: i.payout_id, status: 'failed', failure };
      this.#answers.set(i.payout_id, answer);
      this.submitted.push(i);
      return answer;
    });
  }
}

export function payoutProviderFromConfig(config: Pick<Config, 'PAYOUT_PROVIDER' | 'PAYOUT_DIR'>): PayoutProvider {
  return config.PAYOUT_PROVIDER === 'manual' ? new ManualPayoutProvider(config.PAYOUT_DIR) : new TestPayoutProvider();
}
