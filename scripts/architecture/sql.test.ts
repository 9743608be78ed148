import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { knownTables, tablesUsed } from './sql.js';

const KNOWN = new Set(['results', 'ledger_transfers', 'clicks', 'conversions', 'campaigns', 'enrolments']);

/** The uses in a snippet, as `table:r|w:line` strings (line 1 is the snippet's first line). */
function uses(snippet: string): string[] {
  return tablesUsed(snippet, 'snippet.ts', KNOWN).map((u) => `${u.table}:${u.write ? 'w' : 'r'}:${u.line}`);
}

describe('tablesUsed: raw sql templates', () => {
  it('reads the table of a one-line template', () => {
    expect(uses('const r = await sql`select * from results where id = ${id}`.execute(db);')).toEqual(['results:r:1']);
  });

  it('reads every table of a multi-line template with a join, on its own line', () => {
    const snippet = [
      'const r = await sql<Row>`select sum(t.amount) as total',
      '  from results r',
      '  join ledger_transfers t on t.id = r.hold_id',
      '  where r.campaign_id = ${campaignId}`.execute(db);',
    ].join('\n');
    expect(uses(snippet)).toEqual(['results:r:2', 'ledger_transfers:r:3']);
  });

  it('counts insert, update and delete as writes', () => {
    const snippet = [
      'await sql`insert into results (id) values (${id})`.execute(db);',
      'await sql`update campaigns c set status = x.status from unnest(${ids}::text[]) as x(id, status) where c.id = x.id`.execute(db);',
      'await sql`delete from clicks where id = ${id}`.execute(db);',
    ].join('\n');
    expect(uses(snippet)).toEqual(['results:w:1', 'campaigns:w:2', 'clicks:w:3']);
  });

  it('keeps select … for update a read', () => {
    expect(uses('await sql`select * from results where id = ${id} for update skip locked`.execute(trx);')).toEqual(['results:r:1']);
  });

  it('reads every table of a from-list and of a subquery', () => {
    const snippet = 'sql`select 1 from campaigns c, enrolments e where exists (select 1 from results r where r.campaign_id = c.id)`';
    expect(uses(snippet)).toEqual(['campaigns:r:1', 'enrolments:r:1', 'results:r:1']);
  });

  it('reports no table named only as a column or a quoted string value', () => {
    const snippet = [
      "sql`select c.results, c.clicks, results.status from campaigns c where c.kind = 'results' and c.note <> 'delete from clicks'`",
      'sql`update campaigns set clicks = clicks + 1 where id = ${id}`',
    ].join('\n');
    expect(uses(snippet)).toEqual(['campaigns:r:1', 'campaigns:w:2']);
  });

  it('reads a nested sql template inside an interpolation on its own', () => {
    const snippet = [
      'const r = await sql`select * from campaigns c where ${',
      '  withClicks ? sql`exists (select 1 from clicks k where k.campaign_id = c.id)` : sql`true`',
      '}`.execute(db);',
    ].join('\n');
    expect(uses(snippet)).toEqual(['campaigns:r:1', 'clicks:r:2']);
  });

  it('ignores -- and /* */ comments in SQL', () => {
    const snippet = [
      'sql`select 1 -- from results',
      '  /* join clicks k on true */ from campaigns`',
    ].join('\n');
    expect(uses(snippet)).toEqual(['campaigns:r:2']);
  });

  it('reads sql.table, sql.raw text and a table handed over as `table:`', () => {
    const snippet = [
      "const t = sql.table('clicks');",
      "const cols = sql.raw('r.id from results r');",
      "const page = campaignRowsPage({ table: 'conversions', columns });",
    ].join('\n');
    expect(uses(snippet)).toEqual(['clicks:r:1', 'results:r:2', 'conversions:r:3']);
  });

  it('counts truncate, lock, alter table and copy … from as writes, copy … to as a read', () => {
    const snippet = [
      'sql`truncate table results, clicks`',
      'sql`lock table campaigns in share mode`',
      'sql`alter table conversions add column x int`',
      'sql`copy enrolments (id) from stdin`',
      'sql`copy ledger_transfers to stdout`',
    ].join('\n');
    expect(uses(snippet)).toEqual(['clicks:w:1', 'results:w:1', 'campaigns:w:2', 'conversions:w:3', 'enrolments:w:4', 'ledger_transfers:r:5']);
  });

  it('ignores tables unknown to the migrations and backticks without the sql tag', () => {
    expect(uses('sql`select * from schema_migrations`; const s = `select * from results`;')).toEqual([]);
  });
});

describe('tablesUsed: Kysely builder calls', () => {
  it('reads selectFrom with an alias, an array and a join', () => {
    const snippet = [
      "db.selectFrom('results as r')",
      "  .innerJoin('campaigns as c', 'c.id', 'r.campaign_id')",
      "  .selectAll();",
      "db.selectFrom(['clicks', 'conversions as v']).selectAll();",
    ].join('\n');
    expect(uses(snippet)).toEqual(['results:r:1', 'campaigns:r:2', 'clicks:r:4', 'conversions:r:4']);
  });

  it('counts insertInto, updateTable and deleteFrom as writes', () => {
    const snippet = [
      "await db.insertInto('results').values(row).execute();",
      "await db.updateTable('campaigns').set({ status }).execute();",
      "await db.deleteFrom('clicks').where('id', '=', id).execute();",
    ].join('\n');
    expect(uses(snippet)).toEqual(['results:w:1', 'campaigns:w:2', 'clicks:w:3']);
  });
});

describe('knownTables', () => {
  it('collects created tables and both names of a renamed one, lower-cased, without views or indexes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'earnest-sql-'));
    try {
      writeFileSync(
        join(dir, '0001_first.sql'),
        [
          '-- create table commented_out (id int);',
          'create table Results (id text primary key);',
          'create unlogged table if not exists scratch (id int);',
          'create index results_id on results (id);',
          'create view results_view as select * from results;',
        ].join('\n'),
      );
      writeFileSync(join(dir, '0002_rename.sql'), 'alter table scratch rename to scratch_pad;\nalter table results rename column id to key;\n');
      writeFileSync(join(dir, 'notes.txt'), 'create table not_a_migration (id int);');
      expect([...knownTables(dir)].sort()).toEqual(['results', 'scratch', 'scratch_pad']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("knows the project's tables", () => {
    const tables = knownTables(join(import.meta.dirname, '../../src/db/migrations'));
    for (const t of ['results', 'ledger_transfers', 'clicks', 'conversions', 'campaigns']) expect(tables).toContain(t);
  });
});
