import { z } from 'zod';
import { AppError } from '../errors/index.js';
import { requireCleanStrings } from '../wire/index.js';
import { VIEW_DURATION_MS } from './view-timer.js';

/**
 * The body of a viewability beacon (`POST /b/view`), as the browser snippet sends it: the visitor's
 * stored click ids (newest last), the element's key and kind, and how long it was in view. Sent with
 * navigator.sendBeacon as text/plain (a CORS-safelisted type: no preflight), so the server reads JSON
 * in text/plain as well as application/json. Nothing in it is trusted for money except that each
 * click id names a real click: the server attributes the view, judges the visitor and de-duplicates.
 */
export const VIEW_BEACON_LIMITS = {
  body_bytes_max: 4_096,
  click_ids_max: 20,
  element_length_max: 100,
  page_url_length_max: 2_048,
  /** A run longer than this is reported as this (a tab left open in view for hours is still one view). */
  visible_ms_max: 86_400_000,
} as const;

const CLICK_ID = /^clk_[0-9a-hjkmnp-tv-z]{26}$/;
const CAMPAIGN_ID = /^cmp_[0-9a-hjkmnp-tv-z]{26}$/;

export const viewBeaconBody = z
  .strictObject({
    click_ids: z
      .array(z.string().max(30).regex(CLICK_ID, 'a click id (clk_…)'))
      .min(1)
      .max(VIEW_BEACON_LIMITS.click_ids_max)
      .describe('The click ids the snippet keeps for this visitor, oldest first (Earnest.clickIds())'),
    element: z
      .string()
      .min(1)
      .max(VIEW_BEACON_LIMITS.element_length_max)
      .describe("The marked element's key: its data-earnest-id, else its id, else the page path and its position"),
    kind: z.enum(['video', 'display']).describe('data-earnest-view: video needs 2 continuous seconds in view, display 1'),
    visible_ms: z
      .number()
      .int()
      .min(0)
      .max(VIEW_BEACON_LIMITS.visible_ms_max)
      .describe('How long the element was at least half in view on a visible page, without a break'),
    campaign_id: z.string().max(30).regex(CAMPAIGN_ID, 'a campaign id (cmp_…)').optional().describe("data-earnest-campaign: only this campaign's clicks may be credited"),
    page_url: z.string().max(VIEW_BEACON_LIMITS.page_url_length_max).optional().describe('The page the element was on (kept for the record)'),
  })
  .describe('A viewability beacon from the browser snippet (/s.js)');

export type ViewBeacon = z.infer<typeof viewBeaconBody>;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * A beacon's body checked: invalid_request (400) naming the field for anything malformed, a run
 * shorter than the kind needs included; payload_too_large (413) past the limit. Never throws anything
 * but an AppError.
 */
export function parseViewBeacon(body: Buffer): ViewBeacon {
  if (body.length > VIEW_BEACON_LIMITS.body_bytes_max) {
    throw new AppError('payload_too_large', `a view beacon is at most ${VIEW_BEACON_LIMITS.body_bytes_max} bytes`);
  }
  let value: unknown;
  try {
    value = JSON.parse(UTF8.decode(body));
  } catch {
    throw new AppError('invalid_request', 'the beacon is not JSON in UTF-8', { details: { field: 'body' } });
  }
  requireCleanStrings(value, 'body');
  const parsed = viewBeaconBody.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const field = issue?.path.length ? issue.path.join('.') : 'body';
    const why = issue?.code === 'unrecognized_keys' ? `unknown field(s) ${issue.keys.join(', ')}` : (issue?.message ?? 'invalid');
    throw new AppError('invalid_request', `${field}: ${why}`, { details: { field } });
  }
  const beacon = parsed.data;
  const needed = VIEW_DURATION_MS[beacon.kind];
  if (beacon.visible_ms < needed) {
    throw new AppError('invalid_request', `visible_ms: a ${beacon.kind} view needs ${needed} ms in view, not ${beacon.visible_ms}`, {
      details: { field: 'visible_ms' },
    });
  }
  return beacon;
}
