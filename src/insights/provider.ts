/**
 * Official platform statistics for creators' posts: the evidence a reported view count is checked
 * against (src/conversions/view-insights.ts). A provider answers rows of views per post per day; two
 * kinds plug in behind the one interface:
 * - an upload (`origin: 'upload'`): a file someone exported from the platform and sent us — the CSV
 *   adapter (./csv.ts) ships; it is trusted as much as its uploader (a brand's or an operator's file
 *   is official evidence, a creator's own is not: they could have edited it);
 * - a platform API (`origin: 'platform'`): YouTube Analytics, the Instagram Graph API, TikTok's
 *   Display API, reached with the creator's OAuth grant — the numbers come from the platform itself,
 *   so they are official whoever asked for them (docs/conversions.md, "Platform insights").
 */

/** One post's statistics on one day (UTC). `views` are the views of that day; a lifetime export is one row dated the day it was made. */
export interface InsightRow {
  /** Lower case: instagram, tiktok, youtube… (the same names creators declare followers under). */
  platform: string;
  post_id: string;
  post_url: string | null;
  /** YYYY-MM-DD (UTC). */
  date: string;
  views: bigint;
  likes: bigint | null;
  comments: bigint | null;
  /** The account's followers that day, when the export has them. */
  followers: bigint | null;
}

export interface PostRef {
  platform: string;
  post_id: string;
}

export interface InsightsQuery {
  /** The posts wanted; empty: every post the provider has for the enrolment (a file: all its rows). */
  posts: readonly PostRef[];
  /** Inclusive UTC dates, YYYY-MM-DD. */
  since: string;
  until: string;
}

export interface PlatformInsights {
  /** Recorded on the import (`insight_imports.source`): csv, youtube_analytics… */
  readonly name: string;
  readonly origin: 'upload' | 'platform';
  /** The rows for the posts between since and until; a provider refuses what it cannot answer with a coded AppError. */
  insights(query: InsightsQuery): Promise<InsightRow[]>;
}

/** At most this many rows per import: bounded work in one transaction. */
export const MAX_IMPORT_ROWS = 5000;

export const PLATFORM_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;
