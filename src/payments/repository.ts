/** The SQL of src/payments/ belongs here (docs/architecture.md, "Modules own their tables"). */
/** The tables this module owns (only it writes them) and those of other modules it may read. */
export const TABLES = { owns: ['money_movements'], reads: ['ledger_accounts'] } as const;
