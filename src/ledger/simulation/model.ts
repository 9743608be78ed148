import type { TransferRequest } from '../types.js';

/**
 * A small in-memory reference model of the ledger, written independently of process.ts and as plainly
 * as possible: the simulation runs the same requests through both and compares every result and
 * balance. Time is the clock offset in seconds (the database's real clock only ever adds to it, and
 * the simulation moves in whole hours, so expiry decisions agree).
 */
const LINKED = 1;
const PENDING = 2;
const POST = 4;
const VOID = 8;
const BAL_DEBIT = 16;
const BAL_CREDIT = 32;
const CLOSE_DEBIT = 64;
const CLOSE_CREDIT = 128;
const DEBITS_LIMITED = 2;
const CREDITS_LIMITED = 4;

export interface ModelAccount {
  id: string;
  currency: string;
  flags: number;
  dp: bigint;
  dpo: bigint;
  cp: bigint;
  cpo: bigint;
  closed: boolean;
}

interface ModelTransfer {
  id: string;
  debit: string;
  credit: string;
  amount: bigint;
  pendingId: string | null;
  currency: string;
  code: number;
  flags: number;
  timeout: number;
  userData: string | null;
}

interface ModelHold {
  transfer: ModelTransfer;
  expiresAt: number | null;
  status: 'pending' | 'posted' | 'voided' | 'expired';
}

export interface ModelResult {
  id: string;
  result: string;
  amount?: bigint;
}

const TRANSIENT = new Set([
  'debit_account_not_found',
  'credit_account_not_found',
  'pending_transfer_not_found',
  'debit_account_already_closed',
  'credit_account_already_closed',
  'exceeds_credits',
  'exceeds_debits',
]);

export class LedgerModel {
  readonly accounts = new Map<string, ModelAccount>();
  readonly transfers = new Map<string, ModelTransfer>();
  readonly holds = new Map<string, ModelHold>();
  readonly failed = new Set<string>();
  nowSeconds = 0;

  addAccount(id: string, currency: string, flags: number): void {
    this.accounts.set(id, { id, currency, flags, dp: 0n, dpo: 0n, cp: 0n, cpo: 0n, closed: false });
  }

  advance(seconds: number): void {
    this.nowSeconds += seconds;
    for (const h of this.holds.values()) {
      if (h.status === 'pending' && h.expiresAt !== null && h.expiresAt <= this.nowSeconds) this.release(h, 'expired');
    }
  }

  submit(batch: TransferRequest[]): ModelResult[] {
    const results: ModelResult[] = [];
    let i = 0;
    while (i < batch.length) {
      let j = i;
      while (j < batch.length - 1 && ((batch[j]?.flags ?? 0) & LINKED) !== 0) j++;
      const chain = batch.slice(i, j + 1);
      if (((chain[chain.length - 1]?.flags ?? 0) & LINKED) !== 0) {
        chain.forEach((r, k) => results.push({ id: r.id, result: k === chain.length - 1 ? 'linked_event_chain_open' : 'linked_event_failed' }));
      } else {
        results.push(...this.chain(chain));
      }
      i = j + 1;
    }
    return results;
  }

  private chain(chain: TransferRequest[]): ModelResult[] {
    if (chain.length === 1) return [this.one(chain[0] as TransferRequest)];
    const saved = this.snapshot();
    const out: ModelResult[] = [];
    let failedAt = -1;
    for (const [k, r] of chain.entries()) {
      const res = this.one(r);
      out.push(res);
      if (res.result !== 'ok' && res.result !== 'exists') {
        failedAt = k;
        break;
      }
    }
    const results = out.map((o) => o.result);
    if (failedAt < 0 && (results.every((x) => x === 'ok') || results.every((x) => x === 'exists'))) return out;
    const failedIds = new Set(this.failed);
    this.restore(saved);
    for (const id of failedIds) this.failed.add(id);
    const culprit = failedAt >= 0 ? failedAt : results.indexOf('exists');
    return chain.map((r, k) => (k === culprit ? (out[k] as ModelResult) : { id: r.id, result: 'linked_event_failed' }));
  }

  private one(r: TransferRequest): ModelResult {
    const result = this.decide(r);
    if (typeof result === 'string') {
      if (TRANSIENT.has(result)) this.failed.add(r.id);
      return { id: r.id, result };
    }
    this.record(result);
    return { id: r.id, result: 'ok', amount: result.amount };
  }

  private decide(r: TransferRequest): string | ModelTransfer {
    const flags = r.flags ?? 0;
    const resolving = (flags & (POST | VOID)) !== 0;
    const old = this.transfers.get(r.id);
    if (old) return this.compare(r, old, resolving);
    if (this.failed.has(r.id)) return 'id_already_failed';
    return resolving ? this.resolution(r, flags) : this.regular(r, flags);
  }

  private compare(r: TransferRequest, t: ModelTransfer, resolving: boolean): string {
    const flags = r.flags ?? 0;
    const skip = (v: unknown) => resolving && v === undefined;
    if (flags !== t.flags) return 'exists_with_different_flags';
    if ((r.pending_id ?? null) !== t.pendingId) return 'exists_with_different_pending_id';
    if ((r.timeout ?? 0) !== t.timeout) return 'exists_with_different_timeout';
    if (!skip(r.debit_account_id) && r.debit_account_id !== t.debit) return 'exists_with_different_debit_account_id';
    if (!skip(r.credit_account_id) && r.credit_account_id !== t.credit) return 'exists_with_different_credit_account_id';
    if (!skip(r.amount)) {
      const balancing = (flags & (BAL_DEBIT | BAL_CREDIT)) !== 0;
      if (balancing ? (r.amount as bigint) < t.amount : r.amount !== t.amount) return 'exists_with_different_amount';
    }
    if ((r.user_data ?? null) !== t.userData) return 'exists_with_different_user_data';
    if (!skip(r.currency) && r.currency !== t.currency) return 'exists_with_different_currency';
    if (!(resolving && !r.code) && r.code !== t.code) return 'exists_with_different_code';
    return 'exists';
  }

  private regular(r: TransferRequest, flags: number): string | ModelTransfer {
    const d = this.accounts.get(r.debit_account_id as string);
    const c = this.accounts.get(r.credit_account_id as string);
    if (!d) return 'debit_account_not_found';
    if (!c) return 'credit_account_not_found';
    if (d.currency !== c.currency) return 'accounts_must_have_the_same_currency';
    if (d.currency !== r.currency) return 'transfer_must_have_the_same_currency_as_accounts';
    if (d.closed) return 'debit_account_already_closed';
    if (c.closed) return 'credit_account_already_closed';
    let amount = r.amount as bigint;
    const emptyClose = (flags & (CLOSE_DEBIT | CLOSE_CREDIT)) !== 0 && amount === 0n;
    if (flags & BAL_DEBIT) {
      const room = d.cpo - d.dpo - d.dp;
      if (room <= 0n) return 'exceeds_credits';
      if (room < amount) amount = room;
    }
    if (flags & BAL_CREDIT) {
      const room = c.dpo - c.cpo - c.cp;
      if (room <= 0n) return 'exceeds_debits';
      if (room < amount) amount = room;
    }
    if (!emptyClose && (d.flags & DEBITS_LIMITED) && d.dp + d.dpo + amount > d.cpo) return 'exceeds_credits';
    if (!emptyClose && (c.flags & CREDITS_LIMITED) && c.cp + c.cpo + amount > c.dpo) return 'exceeds_debits';
    return {
      id: r.id,
      debit: d.id,
      credit: c.id,
      amount,
      pendingId: null,
      currency: d.currency,
      code: r.code as number,
      flags,
      timeout: r.timeout ?? 0,
      userData: r.user_data ?? null,
    };
  }

  private resolution(r: TransferRequest, flags: number): string | ModelTransfer {
    const h = this.holds.get(r.pending_id as string);
    if (!h) return this.transfers.has(r.pending_id as string) ? 'pending_transfer_not_pending' : 'pending_transfer_not_found';
    const p = h.transfer;
    const post = (flags & POST) !== 0;
    if (r.debit_account_id !== undefined && r.debit_account_id !== p.debit) return 'pending_transfer_has_different_debit_account_id';
    if (r.credit_account_id !== undefined && r.credit_account_id !== p.credit) return 'pending_transfer_has_different_credit_account_id';
    if (r.currency !== undefined && r.currency !== p.currency) return 'pending_transfer_has_different_currency';
    if (r.code && r.code !== p.code) return 'pending_transfer_has_different_code';
    if (post && r.amount !== undefined && r.amount > p.amount) return 'exceeds_pending_transfer_amount';
    if (!post && r.amount !== undefined && r.amount !== p.amount) return 'pending_transfer_has_different_amount';
    if (h.status === 'posted') return 'pending_transfer_already_posted';
    if (h.status === 'voided') return 'pending_transfer_already_voided';
    if (h.status === 'expired') return 'pending_transfer_expired';
    const d = this.accounts.get(p.debit) as ModelAccount;
    const c = this.accounts.get(p.credit) as ModelAccount;
    const closesD = (p.flags & CLOSE_DEBIT) !== 0;
    const closesC = (p.flags & CLOSE_CREDIT) !== 0;
    if (post && d.closed && !closesD) return 'debit_account_already_closed';
    if (post && c.closed && !closesC) return 'credit_account_already_closed';
    return {
      id: r.id,
      debit: p.debit,
      credit: p.credit,
      amount: post ? (r.amount ?? p.amount) : p.amount,
      pendingId: p.id,
      currency: p.currency,
      code: r.code || p.code,
      flags,
      timeout: 0,
      userData: r.user_data ?? null,
    };
  }

  private record(t: ModelTransfer): void {
    this.transfers.set(t.id, t);
    const d = this.accounts.get(t.debit) as ModelAccount;
    const c = this.accounts.get(t.credit) as ModelAccount;
    if (t.flags & PENDING) {
      d.dp += t.amount;
      c.cp += t.amount;
      if (t.flags & CLOSE_DEBIT) d.closed = true;
      if (t.flags & CLOSE_CREDIT) c.closed = true;
      this.holds.set(t.id, { transfer: t, expiresAt: t.timeout > 0 ? this.nowSeconds + t.timeout : null, status: 'pending' });
    } else if (t.flags & POST) {
      const h = this.holds.get(t.pendingId as string) as ModelHold;
      d.dp -= h.transfer.amount;
      c.cp -= h.transfer.amount;
      d.dpo += t.amount;
      c.cpo += t.amount;
      h.status = 'posted';
    } else if (t.flags & VOID) {
      this.release(this.holds.get(t.pendingId as string) as ModelHold, 'voided');
    } else {
      d.dpo += t.amount;
      c.cpo += t.amount;
    }
  }

  private release(h: ModelHold, status: 'voided' | 'expired'): void {
    const d = this.accounts.get(h.transfer.debit) as ModelAccount;
    const c = this.accounts.get(h.transfer.credit) as ModelAccount;
    d.dp -= h.transfer.amount;
    c.cp -= h.transfer.amount;
    if (h.transfer.flags & CLOSE_DEBIT) d.closed = false;
    if (h.transfer.flags & CLOSE_CREDIT) c.closed = false;
    h.status = status;
  }

  private snapshot() {
    return {
      accounts: new Map([...this.accounts].map(([k, v]) => [k, { ...v }])),
      transfers: new Map(this.transfers),
      holds: new Map([...this.holds].map(([k, v]) => [k, { ...v }])),
    };
  }

  private restore(s: ReturnType<LedgerModel['snapshot']>): void {
    this.accounts.clear();
    for (const [k, v] of s.accounts) this.accounts.set(k, v);
    this.transfers.clear();
    for (const [k, v] of s.transfers) this.transfers.set(k, v);
    this.holds.clear();
    for (const [k, v] of s.holds) this.holds.set(k, v);
  }
}
