import { describe, expect, it } from 'vitest';
import { isAppError } from '../errors/index.js';
import { parseViewBeacon } from './view-beacon.js';
import { batchDue } from '../flows/views.js';
import { creditedClick, viewStatus, visitorKeyOf } from './view-tracker.js';
import type { ClickForView } from './repository.js';

const CLICK = (n: number) => `clk_${String(n).padStart(26, '0')}`;
const BROWSER = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isAppError(e) ? `${e.code}:${String(e.details?.field ?? '')}` : 'not an AppError';
  }
  return undefined;
}

describe('parseViewBeacon', () => {
  const ok = { click_ids: [CLICK(1)], element: 'hero', kind: 'video', visible_ms: 2000 };
  const body = (x: unknown) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x));

  it('takes a well-formed beacon', () => {
    expect(parseViewBeacon(body({ ...ok, campaign_id: `cmp_${'0'.repeat(26)}`, page_url: 'https://shop.example/' }))).toMatchObject(ok);
  });

  it('refuses anything else with a coded error naming the field', () => {
    expect(codeOf(() => parseViewBeacon(body('[')))).toBe('invalid_request:body');
    expect(codeOf(() => parseViewBeacon(Buffer.from([0xff, 0xfe])))).toBe('invalid_request:body');
    expect(codeOf(() => parseViewBeacon(body({ ...ok, kind: 'display', visible_ms: 999 })))).toBe('invalid_request:visible_ms');
    expect(codeOf(() => parseViewBeacon(body({ ...ok, visible_ms: 2000.5 })))).toBe('invalid_request:visible_ms');
    expect(codeOf(() => parseViewBeacon(body({ ...ok, click_ids: Array(21).fill(CLICK(1)) })))).toBe('invalid_request:click_ids');
    expect(codeOf(() => parseViewBeacon(body({ ...ok, element: '' })))).toBe('invalid_request:element');
    expect(codeOf(() => parseViewBeacon(body({ ...ok, campaign_id: 'cmp_x' })))).toBe('invalid_request:campaign_id');
    expect(codeOf(() => parseViewBeacon(body({ ...ok, page_url: 'x'.repeat(5000) })))).toBe('payload_too_large:');
    expect(codeOf(() => parseViewBeacon(body(null)))).toBe('invalid_request:body');
  });
});

describe('creditedClick', () => {
  const at = new Date('2026-06-01T12:00:00Z');
  const click = (n: number, o: Partial<ClickForView>): ClickForView => ({
    id: CLICK(n), enrolment_id: 'enr_a', campaign_id: 'cmp_a', occurred_at: new Date('2026-06-01T10:00:00Z'), status: 'valid', ...o,
  });
  const clicks = new Map(
    [
      click(1, { occurred_at: new Date('2026-06-01T09:00:00Z') }),
      click(2, { occurred_at: new Date('2026-06-01T11:00:00Z'), enrolment_id: 'enr_b', campaign_id: 'cmp_b' }),
      click(3, { occurred_at: new Date('2026-06-01T11:30:00Z'), enrolment_id: 'enr_cpl', campaign_id: 'cmp_cpl' }),
      click(4, { occurred_at: new Date('2026-06-01T13:00:00Z') }),
    ].map((c) => [c.id, c]),
  );
  const isCpm = (id: string) => id !== 'enr_cpl';

  it('is the newest click on a CPM enrolment made before the view', () => {
    expect(creditedClick({ click_ids: [CLICK(1), CLICK(2), CLICK(3), CLICK(4)] }, clicks, isCpm, at)?.id).toBe(CLICK(2));
  });

  it('keeps to the campaign the element names, and credits nothing when none fits', () => {
    expect(creditedClick({ click_ids: [CLICK(1), CLICK(2)], campaign_id: 'cmp_a' }, clicks, isCpm, at)?.id).toBe(CLICK(1));
    expect(creditedClick({ click_ids: [CLICK(3), CLICK(4), CLICK(9)] }, clicks, isCpm, at)).toBeUndefined();
  });
});

describe('viewStatus', () => {
  const none = () => undefined;
  it('applies the click rules to the beacon’s visitor and the credited click', () => {
    expect(viewStatus({ ip: '192.0.2.1', userAgent: BROWSER }, { status: 'valid' }, none)).toBe('valid');
    expect(viewStatus({ ip: '192.0.2.1', userAgent: BROWSER }, { status: 'repeat' }, none)).toBe('valid');
    expect(viewStatus({ ip: '192.0.2.1', userAgent: null }, { status: 'valid' }, none)).toBe('bot');
    expect(viewStatus({ ip: '192.0.2.1', userAgent: 'python-requests/2.31' }, { status: 'valid' }, none)).toBe('bot');
    expect(viewStatus({ ip: '192.0.2.1', userAgent: BROWSER }, { status: 'valid' }, () => 'aws')).toBe('datacenter');
    for (const status of ['bot', 'head', 'datacenter', 'paid_ad'] as const) {
      expect(viewStatus({ ip: '192.0.2.1', userAgent: BROWSER }, { status }, none)).toBe('click_flagged');
    }
  });

  it('keys a visitor by IP hash and user agent', () => {
    expect(visitorKeyOf('h1', BROWSER)).toBe(visitorKeyOf('h1', BROWSER));
    expect(visitorKeyOf('h1', BROWSER)).not.toBe(visitorKeyOf('h2', BROWSER));
    expect(visitorKeyOf('h1', BROWSER)).not.toBe(visitorKeyOf('h1', `${BROWSER} x`));
  });
});

describe('batchDue', () => {
  const now = new Date('2026-06-01T12:00:00Z');
  const running = { terms: { ends_at: '2030-01-01T00:00:00Z' } } as never;
  it('batches a full mille, an hour-old view, or anything in the campaign’s last hour', () => {
    expect(batchDue({ views: 1000n, oldest: now }, running, now)).toBe(true);
    expect(batchDue({ views: 999n, oldest: now }, running, now)).toBe(false);
    expect(batchDue({ views: 3n, oldest: new Date(now.getTime() - 3_600_000) }, running, now)).toBe(true);
    expect(batchDue({ views: 3n, oldest: new Date(now.getTime() - 3_599_000) }, running, now)).toBe(false);
    expect(batchDue({ views: 3n, oldest: now }, { terms: { ends_at: '2026-06-01T12:30:00Z' } } as never, now)).toBe(true);
  });
});
