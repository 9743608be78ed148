-- The money movement recovery looks for deposits and withdrawals left pending (src/payments): few
-- rows among many, oldest first.
create index money_movements_pending on money_movements (created_at, id) where status = 'pending';
