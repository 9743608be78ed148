import { describe, expect, it } from 'vitest';
import { AppError } from '../errors/index.js';
import { csvInsightsFile, parseInsightsCsv } from './csv.js';
import { trustOf } from './index.js';

const today = '2026-12-07';
const parse = (text: string, platform: string | null = null) => parseInsightsCsv(text, { platform, today });

function refusal(text: string, platform: string | null = null): AppError {
  try {
    parse(text, platform);
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('the file was accepted');
}

describe('the insights CSV', () => {
  it('reads a good file: any column order, header case and spaces, optional columns empty, unknown columns ignored', () => {
    const text = [
      '\ufeffDate,Post ID,Platform,Views,Likes,comments,post_url,Impressions',
      '2026-12-01,991,Instagram,12040,840,52,https://social.example/@ada/posts/991,99999',
      '2026-12-02,991,instagram,3100,,,,',
      '"2026-12-02","a,b ""quoted""",tiktok,7,1,0,,',
      '',
    ].join('\r\n');
    expect(parse(text)).toEqual([
      { platform: 'instagram', post_id: '991', post_url: 'https://social.example/@ada/posts/991', date: '2026-12-01', views: 12040n, likes: 840n, comments: 52n, followers: null },
      { platform: 'instagram', post_id: '991', post_url: null, date: '2026-12-02', views: 3100n, likes: null, comments: null, followers: null },
      { platform: 'tiktok', post_id: 'a,b "quoted"', post_url: null, date: '2026-12-02', views: 7n, likes: 1n, comments: 0n, followers: null },
    ]);
  });

  it('takes the platform of the whole file from the upload when it has no platform column', () => {
    expect(parse('post_id,date,views,followers\n991,2026-12-01,5,24000\n', 'youtube')).toEqual([
      { platform: 'youtube', post_id: '991', post_url: null, date: '2026-12-01', views: 5n, likes: null, comments: null, followers: 24000n },
    ]);
  });

  it.each([
    ['', 1, 'empty'],
    ['platform,post_id,date,views\n', 1, 'no rows'],
    ['post_id,date\n1,2026-12-01\n', 1, 'lacks platform, views'],
    ['platform,post_id,date,views,views\nx1,1,2026-12-01,1,1\n', 1, 'named twice'],
    ['platform,post_id,date,views\nig,1,2026-12-01,10\nig,2,2026-12-01\n', 3, 'number of fields'],
    ['platform,post_id,date,views\nig,1,2026-12-01,10\nig,"2,2026-12-01,10\n', 3, 'not valid CSV'],
    ['platform,post_id,date,views\nig,1,2026-12-01,10\nig,2,2026-12-01,12.5\n', 3, 'views "12.5"'],
    ['platform,post_id,date,views\nig,1,2026-12-01,10\nig,2,2026-12-01,"1,200"\n', 3, 'no separators'],
    ['platform,post_id,date,views\nig,1,2026-12-01,-3\n', 2, 'views "-3"'],
    ['platform,post_id,date,views\nig,1,2026-12-01,\n', 2, 'views is empty'],
    ['platform,post_id,date,views,likes\nig,1,2026-12-01,1,lots\n', 2, 'likes "lots"'],
    ['platform,post_id,date,views\nig,1,01/12/2026,1\n', 2, 'YYYY-MM-DD'],
    ['platform,post_id,date,views\nig,1,2026-02-30,1\n', 2, 'YYYY-MM-DD'],
    ['platform,post_id,date,views\nig,1,2026-12-08,1\n', 2, 'in the future'],
    ['platform,post_id,date,views\nig,1,1999-12-31,1\n', 2, 'before 2000'],
    ['platform,post_id,date,views\nInsta gram,1,2026-12-01,1\n', 2, 'not a platform name'],
    ['platform,post_id,date,views\nig,,2026-12-01,1\n', 2, 'post_id'],
    ['platform,post_id,date,views,post_url\nig,1,2026-12-01,1,javascript:alert(1)\n', 2, 'post_url'],
    ['platform,post_id,date,views\nig,1,2026-12-01,1\nig,2,2026-12-01,1\nIG,1,2026-12-01,4\n', 4, 'already on line 2'],
  ])('refuses %j at line %i (%s)', (text, line, why) => {
    const e = refusal(text);
    expect(e.code).toBe('invalid_request');
    expect(e.status).toBe(400);
    expect(e.details).toEqual({ field: 'csv', line });
    expect(e.message).toContain(`csv line ${line}: `);
    expect(e.message).toContain(why);
  });

  it('counts lines as the file has them: a quoted field over two lines, and blank lines', () => {
    const e = refusal('platform,post_id,title,date,views\n\nig,1,"a title\nover two lines",2026-12-01,1\nig,2,,2026-12-01,x\n');
    expect(e.details).toEqual({ field: 'csv', line: 5 });
    expect(refusal('platform,post_id,date,views\nig,"multi\nline",2026-12-01,1\n').message).toContain('csv line 3: post_id');
  });

  it('bounds the rows of one file', () => {
    const rows = Array.from({ length: 5001 }, (_, i) => `ig,${i},2026-12-01,1`);
    expect(refusal(['platform,post_id,date,views', ...rows].join('\n')).message).toContain('more than 5000 rows');
    expect(parse(['platform,post_id,date,views', ...rows.slice(0, 5000)].join('\n'))).toHaveLength(5000);
  });
});

describe('the CSV adapter', () => {
  const file = csvInsightsFile('platform,post_id,date,views\nig,1,2026-12-01,10\nig,1,2026-12-03,30\nig,2,2026-12-02,20\n', { today });

  it('is an upload named csv that answers the rows asked for', async () => {
    expect([file.name, file.origin]).toEqual(['csv', 'upload']);
    expect((await file.insights({ posts: [], since: '2000-01-01', until: today })).map((r) => r.views)).toEqual([10n, 30n, 20n]);
    expect((await file.insights({ posts: [{ platform: 'ig', post_id: '1' }], since: '2026-12-02', until: today })).map((r) => r.views)).toEqual([30n]);
  });

  it('refuses a malformed file when it is built, before anything could be written', () => {
    expect(() => csvInsightsFile('platform,post_id,date,views\nig,1,2026-12-01,ten\n', { today })).toThrow(/csv line 2/);
  });
});

describe('trust', () => {
  it.each([
    ['upload', 'organization', 'official'],
    ['upload', 'operator', 'official'],
    ['upload', 'creator', 'creator'],
    ['platform', 'creator', 'official'],
  ] as const)('%s by %s is %s', (origin, by, trust) => {
    expect(trustOf(origin, by)).toBe(trust);
  });
});
