import { z } from 'zod';
import { AppError } from '../../errors/index.js';
import { isCurrency, Money, parseAmount } from '../../money/index.js';
import { listMovements, type MoneyMovement, moveMoney, walletBalances } from '../../payments/index.js';
import { endpoint, respond } from '../endpoint.js';
import { replayHeaders } from '../idempotency.js';
import { decimalAmount, money, page, pageQuery, pageRequest, reference, whole } from '../schemas.js';
import { movementListSchema, movementSchema, walletSchema } from '../views/payments.js';

const movementBody = z.strictObject({
  amount: decimalAmount,
  currency: z.string().max(3).refine(isCurrency, 'must be an ISO 4217 code such as USD'),
  reference,
});

function movementView(m: MoneyMovement) {
  return { ...m, ...money(m.amount, m.currency) };
}

function orgOf(kind: string, id: string | null): string {
  if (kind !== 'organization' || !id) throw new AppError('forbidden', 'only brands have wallets');
  return id;
}

export const paymentEndpoints = [
  ...(['deposit', 'withdrawal'] as const).map((kind) =>
    endpoint({
      method: 'POST',
      path: kind === 'deposit' ? '/v1/deposits' : '/v1/withdrawals',
      summary:
        kind === 'deposit'
          ? "Deposit money into the brand's wallet through the payment provider (idempotent on reference)"
          : "Withdraw unused money from the brand's wallet (idempotent on reference)",
      tag: 'wallet',
      response: movementSchema,
      access: ['organization'],
      body: movementBody,
      status: 201,
      handle: async ({ body, principal, services }) => {
        const amount = Money.of(parseAmount(body.amount, body.currency), body.currency);
        const { movement: m, replayed } = await moveMoney(services.db, services.payments, {
          orgId: orgOf(principal.kind, principal.id),
          kind,
          amount,
          reference: body.reference,
        });
        // The refused movement stays listed as failed; a retry of its reference answers the same refusal.
        if (m.status === 'failed') {
          const code = m.failure_code === 'insufficient_funds' ? 'insufficient_funds' : 'conflict';
          throw new AppError(code, `${kind} ${m.id} (reference ${m.reference}) was refused: ${m.failure}`);
        }
        return respond(201, movementView(m), replayHeaders(replayed));
      },
    }),
  ),
  endpoint({
    method: 'GET',
    path: '/v1/wallet',
    summary: "The brand's wallet balances per currency (never paged: one row per currency)",
    tag: 'wallet',
    response: walletSchema,
    access: ['organization'],
    handle: async ({ principal, services }) => {
      const balances = await walletBalances(services.db, orgOf(principal.kind, principal.id));
      return whole(balances.map((b) => ({ balance: money(b.balance, b.currency), held: money(b.held, b.currency) })));
    },
  }),
  endpoint({
    method: 'GET',
    path: '/v1/wallet/movements',
    summary: 'Deposits and withdrawals, refused ones failed with their failure_code and failure; newest first (created_at)',
    tag: 'wallet',
    response: movementListSchema,
    access: ['organization'],
    query: pageQuery,
    handle: async ({ query, principal, services }) =>
      page(await listMovements(services.db, orgOf(principal.kind, principal.id), pageRequest(query)), movementView),
  }),
];
