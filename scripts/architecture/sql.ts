import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

/**
 * Which database tables a source file's SQL names, and whether it writes them — a static, pure
 * reading of the file (no type checker, no database), for the architecture test "an SQL statement
 * names a table outside its module's owned/readable list, or writes one it does not own".
 *
 * Where SQL is found:
 * - Kysely raw templates: sql`…` and sql<Row>`…` (the literal parts; each `${…}` is an opaque hole,
 *   and a nested sql`…` inside one is read on its own);
 * - string or template literals passed to `.raw(…)` (sql.raw, CompiledQuery.raw), `.query(…)`, `.exec(…)`;
 * - names passed to sql.table('t'), sql.ref('t.col'), sql.id('t'), db.dynamic.table('t');
 * - Kysely builder calls whose first argument is a literal table ('t', 't as x', ['a', 'b']);
 * - an object property `table: 't'` (a table handed to a helper such as campaignRowsPage).
 *
 * In SQL text a known table counts only in table position: after from, join, into, update, table,
 * using, references, truncate, lock, copy (past modifiers such as only, lateral, if [not] exists),
 * or after a comma in a from/using/truncate/lock/drop list. Columns (`results.status`), string
 * values ('results') and comments are never table uses. Writes: insert/merge into, update, delete
 * from, truncate, alter/create/drop table, lock, copy … from; `for update` stays a read.
 */

/** One use of a known table: its name, whether the statement writes it, the 1-based line in the .ts file. */
export interface TableUse {
  table: string;
  write: boolean;
  line: number;
}

/** A use found while walking the file, at a character offset (converted to a line at the end). */
interface FoundUse {
  table: string;
  write: boolean;
  pos: number;
}

/**
 * Every use of a known table in the file's SQL, one entry per distinct (table, write, line),
 * sorted by line (then table, reads before writes).
 */
export function tablesUsed(fileText: string, fileName: string, knownTables: ReadonlySet<string>): TableUse[] {
  const source = ts.createSourceFile(fileName, fileText, ts.ScriptTarget.Latest, true);
  const found: FoundUse[] = [];
  const visit = (node: ts.Node): void => {
    found.push(...usesAt(node, fileText));
    ts.forEachChild(node, visit);
  };
  visit(source);
  const uses = found
    .filter((u) => knownTables.has(u.table))
    .map((u) => ({ table: u.table, write: u.write, line: source.getLineAndCharacterOfPosition(u.pos).line + 1 }));
  return sortUses(distinctUses(uses));
}

/**
 * Every table created by the `.sql` migrations in `migrationsDir` (create [unlogged|temp] table
 * [if not exists] t), plus both names of a table a migration renames (alter table x rename to y).
 * Lower-case names; views, indexes and functions are not tables.
 */
export function knownTables(migrationsDir: string): Set<string> {
  const tables = new Set<string>();
  const files = readdirSync(migrationsDir)
    .filter((f) => f.endsWith('.sql'))
    .sort();
  for (const file of files) {
    const text = blankComments(readFileSync(join(migrationsDir, file), 'utf8'));
    for (const name of createdTables(text)) tables.add(name);
    for (const name of renamedTables(text)) tables.add(name);
  }
  return tables;
}

// ---------------------------------------------------------------------------------------------
// Migrations

const NAME = String.raw`((?:"[^"]+"|[A-Za-z_][\w$]*)(?:\s*\.\s*(?:"[^"]+"|[A-Za-z_][\w$]*))?)`;
const CREATE_TABLE = new RegExp(
  String.raw`\bcreate\s+(?:(?:global|local)\s+)?(?:(?:temporary|temp|unlogged)\s+)?table\s+(?:if\s+not\s+exists\s+)?` + NAME,
  'gi',
);
const RENAME_TABLE = new RegExp(String.raw`\balter\s+table\s+(?:if\s+exists\s+)?(?:only\s+)?` + NAME + String.raw`\s+rename\s+to\s+` + NAME, 'gi');

function createdTables(sqlText: string): string[] {
  return [...sqlText.matchAll(CREATE_TABLE)].map((m) => tableName(m[1] ?? ''));
}

function renamedTables(sqlText: string): string[] {
  return [...sqlText.matchAll(RENAME_TABLE)].flatMap((m) => [tableName(m[1] ?? ''), tableName(m[2] ?? '')]);
}

/** `public."Results"` → `results`: the last part of a qualified name, unquoted, lower-case. */
function tableName(qualified: string): string {
  const last = qualified.split('.').pop() ?? '';
  return last.trim().replace(/^"|"$/g, '').toLowerCase();
}

// ---------------------------------------------------------------------------------------------
// Where SQL and table names appear in the TypeScript

/** Builder methods whose first argument names a table, and whether they write it. */
const BUILDER_METHODS = new Map<string, boolean>([
  ['selectFrom', false],
  ['innerJoin', false],
  ['leftJoin', false],
  ['rightJoin', false],
  ['fullJoin', false],
  ['crossJoin', false],
  ['using', false],
  ['from', false],
  ['insertInto', true],
  ['replaceInto', true],
  ['updateTable', true],
  ['deleteFrom', true],
  ['mergeInto', true],
  ['createTable', true],
  ['alterTable', true],
  ['dropTable', true],
]);

/** Methods whose literal first argument is SQL text. */
const SQL_TEXT_METHODS = new Set(['raw', 'query', 'exec']);

/** The table uses contributed by this node itself (its children are visited separately). */
function usesAt(node: ts.Node, fileText: string): FoundUse[] {
  if (ts.isTaggedTemplateExpression(node) && isSqlTag(node.tag)) {
    return sqlUses(literalPieces(node.template, fileText));
  }
  if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression)) {
    return callUses(node, node.expression, fileText);
  }
  if (ts.isPropertyAssignment(node) && propertyName(node.name) === 'table') {
    return namedTables([node.initializer], false);
  }
  return [];
}

function isSqlTag(tag: ts.Expression): boolean {
  if (ts.isIdentifier(tag)) return tag.text === 'sql';
  return ts.isPropertyAccessExpression(tag) && tag.name.text === 'sql';
}

function callUses(call: ts.CallExpression, callee: ts.PropertyAccessExpression, fileText: string): FoundUse[] {
  const method = callee.name.text;
  const first = call.arguments[0];
  if (!first) return [];
  if (SQL_TEXT_METHODS.has(method) && isLiteral(first)) return sqlUses(literalPieces(first, fileText));
  const write = BUILDER_METHODS.get(method);
  if (write !== undefined) return namedTables(listed(first), write);
  if (method === 'table' && (isSqlObject(callee.expression) || isDynamic(callee.expression))) return namedTables([first], false);
  if (method === 'ref' && (isSqlObject(callee.expression) || isDynamic(callee.expression))) return referencedTables(first);
  if (method === 'id' && isSqlObject(callee.expression)) return namedTables(call.arguments, false);
  return [];
}

const isSqlObject = (e: ts.Expression): boolean => ts.isIdentifier(e) && e.text === 'sql';
const isDynamic = (e: ts.Expression): boolean => ts.isPropertyAccessExpression(e) && e.name.text === 'dynamic';

function isLiteral(e: ts.Expression): e is ts.StringLiteral | ts.NoSubstitutionTemplateLiteral | ts.TemplateExpression {
  return ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e) || ts.isTemplateExpression(e);
}

/** The argument itself, or the elements of an array literal (`selectFrom(['a', 'b as x'])`). */
function listed(arg: ts.Expression): readonly ts.Expression[] {
  return ts.isArrayLiteralExpression(arg) ? arg.elements : [arg];
}

/** Table names given as literals (`'results'`, `'results as r'`, `'public.results'`); other expressions are skipped. */
function namedTables(args: readonly ts.Expression[], write: boolean): FoundUse[] {
  const out: FoundUse[] = [];
  for (const arg of args) {
    if (!ts.isStringLiteral(arg) && !ts.isNoSubstitutionTemplateLiteral(arg)) continue;
    const withoutAlias = arg.text.split(/\s+as\s+/i)[0] ?? '';
    const table = withoutAlias.trim().split('.').pop() ?? '';
    out.push({ table, write, pos: arg.getStart() });
  }
  return out;
}

/** sql.ref('t.col') / sql.ref('schema.t.col') reads t; a bare column ('col') names no table. */
function referencedTables(arg: ts.Expression): FoundUse[] {
  if (!ts.isStringLiteral(arg) && !ts.isNoSubstitutionTemplateLiteral(arg)) return [];
  const parts = (arg.text.split(/\s+as\s+/i)[0] ?? '').trim().split('.');
  const table = parts.length >= 2 ? parts[parts.length - 2] : undefined;
  return table === undefined ? [] : [{ table, write: false, pos: arg.getStart() }];
}

function propertyName(name: ts.PropertyName): string | undefined {
  return ts.isIdentifier(name) || ts.isStringLiteral(name) ? name.text : undefined;
}

/** A run of SQL text taken verbatim from the file, starting at file offset `start`. */
interface Piece {
  text: string;
  start: number;
}

/** The literal parts of a string or template literal, in order; between two pieces stood a `${…}`. */
function literalPieces(literal: ts.TemplateLiteral | ts.StringLiteral, fileText: string): Piece[] {
  if (!ts.isTemplateExpression(literal)) return [innerText(literal, 1, 1, fileText)];
  const pieces = [innerText(literal.head, 1, 2, fileText)];
  for (const span of literal.templateSpans) {
    const closing = ts.isTemplateTail(span.literal) ? 1 : 2;
    pieces.push(innerText(span.literal, 1, closing, fileText));
  }
  return pieces;
}

/** The raw source text of a literal part without its delimiters (`` ` ``, `'`, `}`, `${`). */
function innerText(node: ts.Node, opening: number, closing: number, fileText: string): Piece {
  const start = node.getStart() + opening;
  return { text: fileText.slice(start, node.getEnd() - closing), start };
}

// ---------------------------------------------------------------------------------------------
// SQL text

/** Stands for a `${…}` hole between two literal pieces: an opaque token that names no table. */
const HOLE = '\u0000';

interface Token {
  kind: 'word' | 'punct' | 'hole' | 'other';
  /** Unquoted words are lower-cased; a "quoted identifier" keeps its case, without the quotes. */
  text: string;
  pos: number;
}

/** The table uses of one statement (or fragment) made of `pieces`. */
function sqlUses(pieces: readonly Piece[]): FoundUse[] {
  const joined = pieces.map((p) => p.text).join(HOLE);
  const offsets = pieceOffsets(pieces);
  const tokens = tokenize(blankComments(joined)).map((t) => ({ ...t, pos: toFileOffset(t.pos, offsets) }));
  return new TableScanner(tokens).scan();
}

/** For each piece: where it starts in the joined text, and in the file. */
function pieceOffsets(pieces: readonly Piece[]): Array<{ joined: number; file: number }> {
  const out: Array<{ joined: number; file: number }> = [];
  let at = 0;
  for (const p of pieces) {
    out.push({ joined: at, file: p.start });
    at += p.text.length + HOLE.length;
  }
  return out;
}

function toFileOffset(joinedPos: number, offsets: ReadonlyArray<{ joined: number; file: number }>): number {
  let base = offsets[0] ?? { joined: 0, file: 0 };
  for (const o of offsets) if (o.joined <= joinedPos) base = o;
  return base.file + (joinedPos - base.joined);
}

/**
 * The text with `-- …` and (nested) `/* … *\/` comments replaced by spaces, keeping its length and
 * line breaks; comment markers inside 'strings' and "identifiers" are left alone.
 */
function blankComments(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const end = commentEnd(text, i);
    if (end > i) {
      out += text.slice(i, end).replace(/[^\n]/g, ' ');
      i = end;
    } else if (text[i] === "'" || text[i] === '"') {
      const close = quotedEnd(text, i);
      out += text.slice(i, close);
      i = close;
    } else {
      out += text[i];
      i += 1;
    }
  }
  return out;
}

/** The end of the comment starting at `i`, or `i` when none starts there. */
function commentEnd(text: string, i: number): number {
  if (text.startsWith('--', i)) {
    const newline = text.indexOf('\n', i);
    return newline === -1 ? text.length : newline;
  }
  if (!text.startsWith('/*', i)) return i;
  let depth = 0;
  let j = i;
  while (j < text.length) {
    if (text.startsWith('/*', j)) {
      depth += 1;
      j += 2;
    } else if (text.startsWith('*/', j)) {
      depth -= 1;
      j += 2;
      if (depth === 0) return j;
    } else {
      j += 1;
    }
  }
  return text.length;
}

/** The offset just past the quoted run opening at `i` (a doubled quote is an escaped one). */
function quotedEnd(text: string, i: number): number {
  const quote = text[i];
  let j = i + 1;
  while (j < text.length) {
    if (text[j] === quote && text[j + 1] === quote) j += 2;
    else if (text[j] === quote) return j + 1;
    else j += 1;
  }
  return text.length;
}

/** Words, "quoted identifiers", punctuation and holes; 'string values' and numbers become `other`. */
function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === HOLE) {
      tokens.push({ kind: 'hole', text: c, pos: i });
      i += 1;
    } else if (/\s/.test(c)) {
      i += 1;
    } else if (c === "'" || c === '"') {
      const end = quotedEnd(text, i);
      const identifier = text.slice(i + 1, end - 1).replaceAll('""', '"');
      tokens.push(c === '"' ? { kind: 'word', text: identifier, pos: i + 1 } : { kind: 'other', text: c, pos: i });
      i = end;
    } else if (/[A-Za-z_0-9]/.test(c)) {
      const run = readRun(text, i);
      const isNumber = /[0-9]/.test(c);
      tokens.push({ kind: isNumber ? 'other' : 'word', text: isNumber ? run : run.toLowerCase(), pos: i });
      i += run.length;
    } else {
      tokens.push({ kind: 'punct', text: c, pos: i });
      i += 1;
    }
  }
  return tokens;
}

/** The identifier (or number) characters from `i` on. */
function readRun(text: string, i: number): string {
  let j = i + 1;
  while (j < text.length && /[A-Za-z0-9_$]/.test(text[j] as string)) j += 1;
  return text.slice(i, j);
}

/** Words that may stand between a table keyword and the table (`from only t`, `create table if not exists t`). */
const MODIFIERS = new Set(['only', 'lateral', 'if', 'not', 'exists', 'table']);
/** Words before `table` that make it a write: alter/create/drop table, create unlogged/temp table. */
const DDL = new Set(['alter', 'create', 'drop', 'unlogged', 'temp', 'temporary']);
/** Words before `update` that do not start an UPDATE: for update, for no key update, do update, on update. */
const NOT_AN_UPDATE = new Set(['for', 'key', 'do', 'on']);
/** Words ending a from/using/truncate/lock list: a comma after them does not introduce a table. */
const LIST_END = new Set([
  'where', 'group', 'having', 'window', 'order', 'limit', 'offset', 'fetch', 'for', 'union', 'intersect', 'except',
  'returning', 'set', 'values', 'select', 'in', 'restart', 'continue', 'cascade', 'restrict', 'nowait', 'do',
]);

/** Keywords that never stand for a table: one where a name was expected ends the expectation (`select copy from t`). */
const CLAUSE_WORDS = new Set([...LIST_END, 'from', 'join', 'using', 'into', 'update', 'on', 'as']);

/** What the next name in table position means: read, write, or (copy) decided by `from`/`to` after it. */
type Expect = 'read' | 'write' | 'copy';
/** The kind of comma-separated table list open at one parenthesis depth. */
type List = 'read' | 'write' | null;

/**
 * A forward pass over one statement's tokens: keywords set what the next name in table position
 * means; lists are tracked per parenthesis depth so `from a, b` reads both while `f(a, b)` names none.
 */
class TableScanner {
  private readonly uses: FoundUse[] = [];
  private readonly lists: List[] = [null];
  private expect: Expect | null = null;
  private previous = '';
  private readonly tokens: readonly Token[];

  constructor(tokens: readonly Token[]) {
    this.tokens = tokens;
  }

  scan(): FoundUse[] {
    for (let i = 0; i < this.tokens.length; i += 1) {
      const token = this.tokens[i] as Token;
      if (token.kind === 'word') i = this.word(token, i);
      else this.symbol(token);
    }
    return this.uses;
  }

  /** Handles the word at `i`; returns the index of the last token it consumed. */
  private word(token: Token, i: number): number {
    const w = token.text;
    if (this.expect !== null && MODIFIERS.has(w)) {
      this.previous = w;
      return i;
    }
    if (this.expect !== null && !CLAUSE_WORDS.has(w)) return this.tableName(i);
    this.expect = null;
    this.keyword(w);
    this.previous = w;
    return i;
  }

  /** A keyword (or any other word) outside table position. */
  private keyword(w: string): void {
    if (LIST_END.has(w)) this.setList(null);
    if (w === 'from') this.fromKeyword();
    else if (w === 'join' || w === 'references') this.expect = 'read';
    else if (w === 'using') this.open('read', 'read');
    else if (w === 'into') this.open('write', null);
    else if (w === 'update' && !NOT_AN_UPDATE.has(this.previous)) this.open('write', null);
    else if (w === 'truncate' || w === 'lock') this.open('write', 'write');
    else if (w === 'copy') this.open('copy', null);
    else if (w === 'table') this.tableKeyword();
  }

  private fromKeyword(): void {
    if (this.previous === 'delete') this.open('write', null);
    else this.open('read', 'read');
  }

  /** `table t` alone reads t; alter/create/drop table write it (and `drop table a, b` is a list). */
  private tableKeyword(): void {
    if (!DDL.has(this.previous)) this.open('read', null);
    else this.open('write', this.previous === 'drop' ? 'write' : null);
  }

  private open(expect: Expect, list: List): void {
    this.expect = expect;
    this.setList(list);
  }

  /** The (possibly schema-qualified) name at `i`, in table position; returns its last token's index. */
  private tableName(i: number): number {
    let last = i;
    while (this.tokens[last + 1]?.text === '.' && this.tokens[last + 2]?.kind === 'word') last += 2;
    const name = this.tokens[last] as Token;
    const write = this.expect === 'copy' ? this.copiesIn(last) : this.expect === 'write';
    this.uses.push({ table: name.text, write, pos: name.pos });
    this.expect = null;
    this.previous = name.text;
    return last;
  }

  /** `copy t (…) from …` loads t (a write); `copy t to …` only reads it. */
  private copiesIn(i: number): boolean {
    let depth = 0;
    for (const t of this.tokens.slice(i + 1)) {
      if (t.text === '(') depth += 1;
      else if (t.text === ')') depth -= 1;
      else if (depth === 0 && t.kind === 'word' && (t.text === 'from' || t.text === 'to')) return t.text === 'from';
    }
    return false;
  }

  /** Punctuation, a value or a hole: it ends any expectation, and opens, closes or continues a list. */
  private symbol(token: Token): void {
    this.expect = null;
    this.previous = '';
    if (token.text === '(') this.lists.push(null);
    else if (token.text === ')' && this.lists.length > 1) this.lists.pop();
    else if (token.text === ';') this.lists.splice(0, this.lists.length, null);
    else if (token.text === ',') this.comma();
  }

  private comma(): void {
    const list = this.lists[this.lists.length - 1];
    if (list) this.expect = list;
  }

  private setList(list: List): void {
    this.lists[this.lists.length - 1] = list;
  }
}

// ---------------------------------------------------------------------------------------------
// Results

function distinctUses(uses: readonly TableUse[]): TableUse[] {
  const seen = new Map<string, TableUse>();
  for (const u of uses) seen.set(`${u.table}\u0000${u.write}\u0000${u.line}`, u);
  return [...seen.values()];
}

function sortUses(uses: TableUse[]): TableUse[] {
  return uses.sort((a, b) => a.line - b.line || a.table.localeCompare(b.table) || Number(a.write) - Number(b.write));
}
