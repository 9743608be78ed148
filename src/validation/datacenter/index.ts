import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ipaddr from 'ipaddr.js';
import { AppError } from '../../errors/index.js';

/**
 * Data-centre and hosting IP ranges: which cloud or hosting provider, if any, an address belongs to.
 * A click from such an address comes from a server (a bot, a scraper, a link scanner, a proxy), not
 * from a person on a home or mobile connection, so the fraud rules can treat it as invalid traffic.
 *
 * The list is a text file: one `<cidr> <provider>` per line, `#` starts a comment (whole line or
 * trailing). `ranges.txt` beside this file is the shipped list (sources and dates in its header);
 * an operator refreshes it by writing a file in the same format and loading it with `loadRangesFile`.
 */
export interface DatacenterRanges {
  /** The provider whose range holds `ip`, or undefined (also for anything that is not an IP address). */
  match(ip: string): string | undefined;
  /** How many CIDR blocks the list holds once overlapping and adjacent blocks are merged (= cidrs().length). */
  readonly size: number;
  /** The merged list, IPv4 then IPv6, each in address order; written one per line it parses back to the same list. */
  cidrs(): Array<{ cidr: string; provider: string }>;
}

/** The list Earnest ships (src/validation/datacenter/ranges.txt). */
export const SHIPPED_RANGES_FILE = new URL('./ranges.txt', import.meta.url);

/**
 * The ranges this process judges with: the shipped list, parsed on first use and kept (its ~6,000
 * lines take tens of milliseconds), unless the operator loaded an updated list at start
 * (DATACENTER_RANGES_FILE; `useDatacenterRanges`).
 */
export function defaultDatacenterRanges(): DatacenterRanges {
  inUse ??= loadRangesFile(fileURLToPath(SHIPPED_RANGES_FILE));
  return inUse;
}
let inUse: DatacenterRanges | undefined;

/** Replaces the ranges the process judges with (the server calls it at start with the operator's file). */
export function useDatacenterRanges(ranges: DatacenterRanges): void {
  inUse = ranges;
}

/** Reads and parses a ranges file; an unreadable file is the operator's to fix, so it is an AppError too. */
export function loadRangesFile(path: string): DatacenterRanges {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    throw new AppError('invalid_config', `cannot read data-centre ranges file ${path}: ${reason}`, { cause, details: { source: path } });
  }
  return parseRanges(text, path);
}

/**
 * Parses the ranges format. Every malformed line is refused with its line number rather than skipped:
 * a silently dropped line is a provider whose traffic gets paid for. A block with host bits set
 * (`10.0.0.1/8`) is refused too, because it is usually a typo for a different block.
 */
export function parseRanges(text: string, source = 'data-centre ranges'): DatacenterRanges {
  const blocks: Block[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const content = (lines[i] as string).replace(/#.*/, '').trim();
    if (content === '') continue;
    const problem = parseLine(content, blocks);
    if (problem !== undefined) {
      throw new AppError('invalid_config', `${source} line ${i + 1}: ${problem}`, { details: { source, line: i + 1 } });
    }
  }
  return build(blocks);
}

/** A CIDR block as an inclusive range of addresses (IPv4 addresses are plain numbers widened to bigint). */
interface Block {
  readonly v6: boolean;
  readonly first: bigint;
  readonly last: bigint;
  readonly bits: number;
  readonly provider: string;
}

const PROVIDER = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Adds the line's block to `blocks`, or says what is wrong with the line. */
function parseLine(content: string, blocks: Block[]): string | undefined {
  const fields = content.split(/\s+/);
  if (fields.length !== 2) return `expected "<cidr> <provider>", got ${fields.length} field${fields.length === 1 ? '' : 's'}`;
  const [cidr, provider] = fields as [string, string];
  if (!PROVIDER.test(provider)) return `provider "${provider}" must be letters, digits, '.', '_' or '-' (at most 64)`;
  const slash = cidr.indexOf('/');
  const bitsText = slash < 0 ? '' : cidr.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bitsText)) return `"${cidr}" is not a CIDR block (address/prefix-length)`;
  const address = cidr.slice(0, slash);
  const bits = Number(bitsText);
  const v6 = address.includes(':');
  let value: bigint;
  if (v6) {
    const parsed = address.includes('%') ? undefined : parseIPv6(address);
    if (parsed === undefined) return `"${address}" is not an IPv6 address`;
    if (parsed.isIPv4MappedAddress()) return `"${cidr}" is an IPv4-mapped block; write it as IPv4`;
    value = ipv6Value(parsed);
  } else {
    const v4 = parseIPv4(address);
    if (v4 === undefined) return `"${address}" is not an IPv4 address`;
    value = BigInt(v4);
  }
  const width = v6 ? 128 : 32;
  if (bits > width) return `prefix length /${bits} is longer than ${width}`;
  const span = 1n << BigInt(width - bits);
  if (value % span !== 0n) return `"${cidr}" has host bits set (the block is ${formatAddress(v6, value - (value % span))}/${bits})`;
  blocks.push({ v6, first: value, last: value + span - 1n, bits, provider });
  return undefined;
}

/** Dotted-quad IPv4 only, each part 0-255 without leading zeros: `010.0.0.1` or `10.1` are not addresses here. */
function parseIPv4(s: string): number | undefined {
  const n = s.length;
  if (n < 7 || n > 15) return undefined;
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return undefined;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return undefined;
      part = part * 10 + (c - 48);
      if (part > 255) return undefined;
      digits++;
    } else {
      return undefined;
    }
  }
  if (dots !== 3 || digits === 0) return undefined;
  return value * 256 + part;
}

/** ipaddr.js's parser (zone index allowed); one parse, since validating first would parse twice. */
function parseIPv6(s: string): ipaddr.IPv6 | undefined {
  try {
    return ipaddr.IPv6.parse(s);
  } catch {
    return undefined;
  }
}

function ipv6Value(address: ipaddr.IPv6): bigint {
  let value = 0n;
  for (const part of address.parts) value = (value << 16n) | BigInt(part);
  return value;
}

function formatAddress(v6: boolean, value: bigint): string {
  if (!v6) return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join('.');
  const parts: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) parts.push(Number((value >> shift) & 0xffffn));
  return new ipaddr.IPv6(parts).toString();
}

/** One run of addresses with one provider; runs never overlap and are kept in address order. */
interface Segment {
  first: bigint;
  last: bigint;
  provider: string;
}

/**
 * Flattens the blocks into disjoint runs. CIDR blocks either nest or do not touch, so where two
 * providers' blocks overlap the smaller (more specific) block wins, as in routing; the same block
 * listed twice keeps its first provider. Adjacent runs of one provider are merged.
 */
function flatten(blocks: Block[]): Segment[] {
  const order = blocks.map((block, index) => ({ block, index }));
  order.sort((a, b) => (a.block.first < b.block.first ? -1 : a.block.first > b.block.first ? 1 : a.block.bits - b.block.bits || a.index - b.index));
  const segments: Segment[] = [];
  const emit = (provider: string, first: bigint, last: bigint): void => {
    if (first > last) return;
    const previous = segments[segments.length - 1];
    if (previous && previous.provider === provider && previous.last + 1n === first) previous.last = last;
    else segments.push({ first, last, provider });
  };
  const open: Block[] = [];
  let cursor = 0n;
  for (const { block } of order) {
    let top = open[open.length - 1];
    while (top && top.last < block.first) {
      emit(top.provider, cursor, top.last);
      cursor = top.last + 1n;
      open.pop();
      top = open[open.length - 1];
    }
    if (top && top.first === block.first && top.last === block.last) continue;
    if (top) emit(top.provider, cursor, block.first - 1n);
    open.push(block);
    cursor = block.first;
  }
  for (let top = open.pop(); top; top = open.pop()) {
    emit(top.provider, cursor, top.last);
    cursor = top.last + 1n;
  }
  return segments;
}

/** The fewest CIDR blocks that exactly cover first..last. */
function toCidrs(first: bigint, last: bigint, width: number): Array<{ value: bigint; bits: number }> {
  const out: Array<{ value: bigint; bits: number }> = [];
  let start = first;
  while (start <= last) {
    let size = 1n;
    let bits = width;
    while (bits > 0 && start % (size * 2n) === 0n && start + size * 2n - 1n <= last) {
      size *= 2n;
      bits--;
    }
    out.push({ value: start, bits });
    start += size;
  }
  return out;
}

function build(blocks: Block[]): DatacenterRanges {
  const providers: string[] = [];
  const providerIndex = new Map<string, number>();
  const indexOf = (provider: string): number => {
    let index = providerIndex.get(provider);
    if (index === undefined) {
      index = providers.length;
      providers.push(provider);
      providerIndex.set(provider, index);
    }
    return index;
  };

  const v4 = flatten(blocks.filter((b) => !b.v6));
  const v6 = flatten(blocks.filter((b) => b.v6));
  // IPv4 lookups are the hot path (one per click): typed arrays of plain numbers, no bigint.
  const v4First = Float64Array.from(v4, (s) => Number(s.first));
  const v4Last = Float64Array.from(v4, (s) => Number(s.last));
  const v4Provider = Uint32Array.from(v4, (s) => indexOf(s.provider));
  const v6First = v6.map((s) => s.first);
  const v6Last = v6.map((s) => s.last);
  const v6Provider = v6.map((s) => indexOf(s.provider));

  const matchV4 = (ip: number): string | undefined => {
    let lo = 0;
    let hi = v4First.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((v4First[mid] as number) <= ip) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && ip <= (v4Last[hi] as number) ? providers[v4Provider[hi] as number] : undefined;
  };
  const matchV6 = (ip: bigint): string | undefined => {
    let lo = 0;
    let hi = v6First.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((v6First[mid] as bigint) <= ip) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && ip <= (v6Last[hi] as bigint) ? providers[v6Provider[hi] as number] : undefined;
  };

  const listing = (): Array<{ cidr: string; provider: string }> => [
    ...v4.flatMap((s) => toCidrs(s.first, s.last, 32).map((c) => ({ cidr: `${formatAddress(false, c.value)}/${c.bits}`, provider: s.provider }))),
    ...v6.flatMap((s) => toCidrs(s.first, s.last, 128).map((c) => ({ cidr: `${formatAddress(true, c.value)}/${c.bits}`, provider: s.provider }))),
  ];
  const size = v4.reduce((n, s) => n + toCidrs(s.first, s.last, 32).length, 0) + v6.reduce((n, s) => n + toCidrs(s.first, s.last, 128).length, 0);

  return {
    size,
    cidrs: listing,
    match(ip: string): string | undefined {
      if (typeof ip !== 'string') return undefined;
      if (!ip.includes(':')) {
        const value = parseIPv4(ip);
        return value === undefined ? undefined : matchV4(value);
      }
      const parsed = parseIPv6(ip);
      if (parsed === undefined) return undefined;
      // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d; they are IPv4 clients.
      if (parsed.isIPv4MappedAddress()) {
        const [a, b, c, d] = parsed.toIPv4Address().octets as [number, number, number, number];
        return matchV4(((a * 256 + b) * 256 + c) * 256 + d);
      }
      return matchV6(ipv6Value(parsed));
    },
  };
}
