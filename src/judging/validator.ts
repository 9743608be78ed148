import { AssertionFailure } from '../errors/index.js';
import { type CampaignEvent, type ClickStatus, engineDeps, type EngineDeps, type EngineEvent, normaliseEmail, scoreEvents, type Verdict } from '../validation/index.js';
import type { ConversionToValidate, Judgement, Validator, VerdictLevel } from './types.js';
import { campaignLine, clickEvent, conversionEvent, creatorLine } from './events.js';

/**
 * The validator of live conversions: the engine over the conversion's own lines — the campaign (from
 * the terms the creator accepted), the creator, the attributed click as tracking stored it, the
 * conversion — plus what only the server knows:
 * - the click's flags, decided when it was written (tracking saw the visitor's real IP and its other
 *   clicks): a conversion through a `bot`, `head`, `datacenter` or `paid_ad` click earns nothing
 *   (`bot_click`, `head_click`, `datacenter_click`, `paid_ad_click`). A `repeat` click is not paid
 *   per click, but it convicts nothing: it is the same person coming back, and a person who clicks
 *   twice and then buys bought (the engine's rule too: a repeat is never inherited);
 * - earlier leads in the database (`duplicate_lead`): the engine only sees this one conversion.
 * Velocity, bursts and the cohort rules need more than one event: they run when holds are released
 * (`recheckTraffic`).
 */
export const CLICK_FLAGS: Readonly<Record<Exclude<ClickStatus, 'valid'>, string>> = {
  bot: 'bot_click',
  repeat: 'repeat_click',
  head: 'head_click',
  datacenter: 'datacenter_click',
  paid_ad: 'paid_ad_click',
};

/** The click flags a conversion inherits: all but `valid` and `repeat`. */
const CONVICTING_FLAGS: ReadonlySet<ClickStatus> = new Set(['bot', 'head', 'datacenter', 'paid_ad']);

let shared: EngineDeps | undefined;
/** The shipped data-centre ranges and the offline lead checker, loaded once per process. */
export function liveEngineDeps(): EngineDeps {
  shared ??= engineDeps();
  return shared;
}

const LEVEL = { valid: 0, review: 1, invalid: 2 } as const;
export function worse(a: VerdictLevel, b: VerdictLevel): VerdictLevel {
  return LEVEL[a] >= LEVEL[b] ? a : b;
}

export function engineValidator(deps: EngineDeps = liveEngineDeps()): Validator {
  return {
    async validateConversion(input) {
      const line = campaignLine(input.campaignId, input.terms);
      const own = judgeAlone(input, line, deps);
      const reasons = input.click && CONVICTING_FLAGS.has(input.click.status) ? [CLICK_FLAGS[input.click.status as Exclude<ClickStatus, 'valid'>]] : [];
      let verdict = reasons.length > 0 ? worse(own.verdict, 'invalid') : own.verdict;
      reasons.push(...own.reasons);
      if (input.kind === 'lead' && line.rules.leads.dedupe && !reasons.includes('duplicate_lead')) {
        const customer = { id: input.customer.id, email: input.customer.email ? normaliseEmail(input.customer.email) : null };
        if (await input.history.hasEarlierLead(input.campaignId, customer)) {
          reasons.push('duplicate_lead');
          verdict = 'invalid';
        }
      }
      // A valid verdict may carry notes (a role account lowers the score): they change nothing, so a
      // paid conversion shows no reasons.
      return verdict === 'valid' ? { verdict, reasons: [] } : { verdict, reasons };
    },
  };
}

/** The engine's verdict on the conversion from its own lines only. */
function judgeAlone(input: ConversionToValidate, line: CampaignEvent, deps: EngineDeps): Judgement {
  const events: EngineEvent[] = [line, creatorLine(input.creator)];
  if (input.click) events.push(clickEvent(input.campaignId, input.creator.id, input.click));
  events.push(
    conversionEvent({
      id: input.id,
      occurredAt: input.occurredAt,
      kind: input.kind,
      campaignId: input.campaignId,
      creatorId: input.creator.id,
      clickId: input.click?.id ?? null,
      promoCode: input.promoCode,
      customer: input.customer,
      ip: input.device.ip,
      userAgent: input.device.userAgent,
      amount: input.amount,
      currency: input.currency,
    }),
  );
  const verdict = scoreEvents(events, deps).find((v): v is Verdict => v.kind === 'conversion');
  if (!verdict) throw new AssertionFailure('the engine answers a verdict for every conversion');
  // The two-event stream is out of order only when the conversion is timed before its click, which the
  // engine already calls `conversion_before_click` (invalid): `out_of_order` would only repeat it.
  const reasons = verdict.reasons.filter((r) => r !== 'out_of_order');
  if (reasons.length < verdict.reasons.length && !reasons.includes('conversion_before_click')) {
    throw new AssertionFailure('out_of_order at intake without conversion_before_click');
  }
  return { verdict: verdict.verdict, reasons };
}
