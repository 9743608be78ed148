/**
 * When a marked element counts as viewed (MRC viewability, docs/tracking.md#viewability-beacons): at
 * least half of its pixels in the viewport, on a visible page, for 2 continuous seconds (a video) or
 * 1 (display). Pure and clock-free — the caller passes the time — so the browser snippet (which bundles
 * this file into /s.js) and the unit tests share one rule. Written for the snippet: no classes, no
 * private fields, nothing esbuild would have to lower for old browsers.
 */
export type ViewKind = 'video' | 'display';

/** The continuous time each kind needs, in milliseconds. */
export const VIEW_DURATION_MS: Readonly<Record<ViewKind, number>> = { video: 2000, display: 1000 };

/** The share of the element's pixels that must be in the viewport. */
export const VIEW_RATIO = 0.5;

export interface ViewTimer {
  /**
   * The element's state now: in view (its intersection ratio), the page visible. Answers the
   * milliseconds left until it counts (call `due` then), or -1 when it is not counting: out of view,
   * hidden, or already counted. The same state again keeps the continuous run going; leaving view or
   * a hidden page ends the run, and the next one starts from zero.
   */
  update(ratio: number, visible: boolean, now: number): number;
  /** True exactly once: the first time the run has lasted the kind's duration at `now`. */
  due(now: number): boolean;
  /** How long the run that counted lasted (0 before it counted). */
  visibleMs(): number;
}

export function viewTimer(kind: ViewKind, requiredMs: number = VIEW_DURATION_MS[kind]): ViewTimer {
  let since = -1;
  let counted = false;
  let lasted = 0;
  return {
    update(ratio, visible, now) {
      if (counted) return -1;
      if (!(ratio >= VIEW_RATIO) || !visible) {
        since = -1;
        return -1;
      }
      if (since < 0) since = now;
      return Math.max(0, since + requiredMs - now);
    },
    due(now) {
      if (counted || since < 0 || now - since < requiredMs) return false;
      counted = true;
      lasted = now - since;
      return true;
    },
    visibleMs() {
      return lasted;
    },
  };
}
