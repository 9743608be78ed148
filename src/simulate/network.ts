import { existsSync, readFileSync } from 'node:fs';
import ipaddr from 'ipaddr.js';
import { AppError, assert } from '../errors/index.js';
import type { Random } from '../random/index.js';
import { SHIPPED_RANGES_FILE } from '../validation/index.js';
import { WeightedPicker } from './draw.js';

/**
 * IP addresses for simulated traffic. People come from consumer ISP and mobile-carrier blocks; cloud
 * traffic comes from the data-centre CIDRs the run is given. No address drawn for a person ever falls
 * in one of those CIDRs: it is redrawn, so "honest" never means "from a cloud" by accident.
 */

/** Where the default data-centre list lives: the one the validation engine ships. */
export const RANGES_FILE = SHIPPED_RANGES_FILE;

/**
 * Used when ranges.txt is absent: a few well-known published ranges per major provider (AWS
 * us-east-1 EC2, Google Cloud, Azure, Oracle Cloud, DigitalOcean, Hetzner, OVH, Linode), IPv4 and IPv6.
 */
export const FALLBACK_DATACENTER_CIDRS: readonly string[] = [
  '3.80.0.0/12', // AWS
  '18.204.0.0/14', // AWS
  '2600:1f18::/33', // AWS
  '35.184.0.0/13', // Google Cloud
  '34.64.0.0/10', // Google Cloud
  '2600:1900::/28', // Google Cloud
  '40.112.0.0/13', // Azure
  '20.40.0.0/13', // Azure
  '129.146.0.0/16', // Oracle Cloud
  '132.145.0.0/16', // Oracle Cloud
  '159.203.0.0/16', // DigitalOcean
  '167.99.0.0/16', // DigitalOcean
  '2604:a880::/32', // DigitalOcean
  '5.9.0.0/16', // Hetzner
  '88.198.0.0/16', // Hetzner
  '2a01:4f8::/32', // Hetzner
  '51.38.0.0/16', // OVH
  '145.239.0.0/16', // OVH
  '2001:41d0::/32', // OVH
  '139.162.0.0/16', // Linode
  '2600:3c00::/32', // Linode
];

/** The CIDRs of a ranges file: one `cidr provider` per line, `#` starts a comment. */
export function parseRangesText(text: string): string[] {
  const cidrs: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const cidr = line.split(/\s+/)[0] as string;
    if (ipaddr.isValidCIDR(cidr)) cidrs.push(cidr);
  }
  return cidrs;
}

/** ranges.txt when it exists (the engine's own list, so both sides agree), else the fallback. */
export function defaultDatacenterCidrs(): string[] {
  if (existsSync(RANGES_FILE)) {
    const cidrs = parseRangesText(readFileSync(RANGES_FILE, 'utf8'));
    if (cidrs.length > 0) return cidrs;
  }
  return [...FALLBACK_DATACENTER_CIDRS];
}

/** A CIDR as an inclusive range of BigInt addresses; IPv4 as itself, IPv6 offset above 2^32. */
interface Block {
  readonly v6: boolean;
  readonly first: bigint;
  readonly size: bigint;
}

const V6_OFFSET = 1n << 32n;

function toBlock(cidr: string): Block {
  const [address, bits] = ipaddr.parseCIDR(cidr);
  const v6 = address.kind() === 'ipv6';
  const width = v6 ? 128 : 32;
  const size = 1n << BigInt(width - bits);
  const value = addressValue(address);
  return { v6, first: value - (value % size), size };
}

function addressValue(address: ipaddr.IPv4 | ipaddr.IPv6): bigint {
  let value = 0n;
  for (const byte of address.toByteArray()) value = (value << 8n) | BigInt(byte);
  return value;
}

function formatAddress(value: bigint, v6: boolean): string {
  if (!v6) {
    const n = Number(value);
    return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
  const parts: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) parts.push(Number((value >> shift) & 0xffffn));
  return new ipaddr.IPv6(parts).toString();
}

function randomBelow(rng: Random, size: bigint): bigint {
  if (size <= 0x1_0000_0000n) return BigInt(Math.floor(rng.next() * Number(size)));
  let value = 0n;
  for (let bits = 0n; (1n << bits) < size; bits += 32n) value = (value << 32n) | BigInt(Math.floor(rng.next() * 0x1_0000_0000));
  return value % size;
}

/** Whether an address falls in any of a list of CIDRs: sorted, merged ranges and a binary search. */
export class CidrSet {
  readonly #starts: bigint[] = [];
  readonly #ends: bigint[] = [];

  constructor(cidrs: readonly string[]) {
    const ranges = cidrs
      .map(toBlock)
      .map((b) => [key(b.v6, b.first), key(b.v6, b.first + b.size - 1n)] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    for (const [start, end] of ranges) {
      const last = this.#ends.length - 1;
      if (last >= 0 && start <= (this.#ends[last] as bigint) + 1n) {
        if (end > (this.#ends[last] as bigint)) this.#ends[last] = end;
      } else {
        this.#starts.push(start);
        this.#ends.push(end);
      }
    }
  }

  has(value: bigint, v6: boolean): boolean {
    const k = key(v6, value);
    let lo = 0;
    let hi = this.#starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.#starts[mid] as bigint) > k) hi = mid - 1;
      else if ((this.#ends[mid] as bigint) < k) lo = mid + 1;
      else return true;
    }
    return false;
  }
}

function key(v6: boolean, value: bigint): bigint {
  return v6 ? value + V6_OFFSET : value;
}

/** Draws addresses uniformly from weighted blocks, skipping any that an exclusion set holds. */
export class AddressPool {
  readonly #picker: WeightedPicker<{ block: Block; weight: number }>;
  readonly #exclude: CidrSet | null;

  constructor(blocks: ReadonlyArray<readonly [cidr: string, weight: number]>, exclude: CidrSet | null) {
    const parsed = blocks.map(([cidr, weight]) => ({ block: toBlock(cidr), weight }));
    this.#picker = new WeightedPicker(parsed, (b) => b.weight);
    this.#exclude = exclude;
  }

  draw(rng: Random): string {
    for (let attempt = 0; ; attempt++) {
      const { block } = this.#picker.pick(rng);
      const value = block.first + randomBelow(rng, block.size);
      const hostOk = block.v6 || block.size <= 2n || (value !== block.first && value !== block.first + block.size - 1n);
      if (hostOk && !this.#exclude?.has(value, block.v6)) return formatAddress(value, block.v6);
      if (attempt > 1000) throw new AppError('invalid_request', 'the data-centre ranges cover the residential and mobile address blocks the simulator draws people from');
    }
  }
}

/**
 * Approximate consumer fixed-line blocks (Comcast, Verizon, Rogers, BT, Virgin Media, Deutsche
 * Telekom, Orange, Free, Telefónica, Telecom Italia, KPN, Telstra, Vivo, Jio, Telmex, Orange Polska,
 * Telia) and their IPv6 prefixes. Weights are rough traffic shares.
 */
export const RESIDENTIAL_BLOCKS: ReadonlyArray<readonly [string, number]> = [
  ['73.0.0.0/8', 8], ['71.192.0.0/12', 3], ['96.224.0.0/11', 4], ['99.224.0.0/11', 2], ['86.128.0.0/10', 4],
  ['86.0.0.0/11', 2], ['79.192.0.0/10', 3], ['91.0.0.0/10', 2], ['90.0.0.0/9', 3], ['88.160.0.0/11', 2],
  ['83.32.0.0/11', 2], ['79.16.0.0/12', 2], ['77.160.0.0/12', 1], ['120.16.0.0/12', 1], ['189.0.0.0/11', 2],
  ['49.32.0.0/11', 2], ['187.128.0.0/10', 1], ['83.0.0.0/11', 1], ['90.224.0.0/12', 1],
  ['2601::/20', 3], ['2003::/19', 2], ['2a01:cb00::/23', 1],
];

/** Mobile carriers' egress blocks (T-Mobile US, Verizon Wireless, AT&T, Three UK, Telekom DE, Free Mobile). */
export const MOBILE_BLOCKS: ReadonlyArray<readonly [string, number]> = [
  ['172.56.0.0/14', 3], ['174.192.0.0/10', 3], ['107.64.0.0/11', 2], ['92.40.0.0/13', 2], ['80.187.0.0/16', 1],
  ['37.160.0.0/12', 1], ['2607:fb90::/32', 3], ['2600:1000::/28', 2], ['2a01:598::/32', 1],
];

/**
 * Where declared crawlers and link-preview fetchers come from (Googlebot, Bingbot, Facebook, Twitter,
 * Ahrefs, Semrush); HTTP libraries run from anywhere, so bots also draw from the residential pool.
 */
export const CRAWLER_BLOCKS: ReadonlyArray<readonly [string, number]> = [
  ['66.249.64.0/19', 3], ['157.55.39.0/24', 1], ['207.46.13.0/24', 1], ['69.171.224.0/19', 2], ['173.252.64.0/18', 2],
  ['199.16.156.0/22', 1], ['54.36.148.0/23', 1], ['185.191.171.0/24', 1],
];

/** Data-centre addresses: a few CIDRs per run, and within them a few busy hosts plus scattered ones. */
export class DatacenterPool {
  readonly #pool: AddressPool | null;
  readonly #hosts: string[];

  constructor(rng: Random, cidrs: readonly string[], cidrCount: number, hostCount: number) {
    const chosen: string[] = [];
    const seen = new Set<number>();
    while (chosen.length < Math.min(cidrCount, cidrs.length)) {
      const i = Math.floor(rng.next() * cidrs.length);
      if (seen.has(i)) continue;
      seen.add(i);
      chosen.push(cidrs[i] as string);
    }
    this.#pool = chosen.length > 0 ? new AddressPool(chosen.map((c) => [c, 1] as const), null) : null;
    this.#hosts = this.#pool ? Array.from({ length: hostCount }, () => (this.#pool as AddressPool).draw(rng)) : [];
  }

  get available(): boolean {
    return this.#pool !== null;
  }

  draw(rng: Random): string {
    assert(this.#pool !== null, 'data-centre traffic is only planned when there are ranges to draw from');
    return rng.next() < 0.6 ? rng.pick(this.#hosts) : this.#pool.draw(rng);
  }
}
