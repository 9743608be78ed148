import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../../errors/index.js';
import { defaultDatacenterRanges, loadRangesFile, parseRanges } from './index.js';

function parseError(text: string): AppError {
  try {
    parseRanges(text, 'test.txt');
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected parseRanges to throw');
}

describe('parseRanges: matching', () => {
  const ranges = parseRanges('198.51.100.0/24 alpha\n2001:db8::/32 beta\n203.0.113.7/32 gamma\n');

  it('matches the first and last address of an IPv4 block and not one either side', () => {
    expect(ranges.match('198.51.99.255')).toBeUndefined();
    expect(ranges.match('198.51.100.0')).toBe('alpha');
    expect(ranges.match('198.51.100.255')).toBe('alpha');
    expect(ranges.match('198.51.101.0')).toBeUndefined();
  });

  it('matches a /32 exactly', () => {
    expect(ranges.match('203.0.113.6')).toBeUndefined();
    expect(ranges.match('203.0.113.7')).toBe('gamma');
    expect(ranges.match('203.0.113.8')).toBeUndefined();
  });

  it('matches IPv6 blocks at their edges, in any spelling', () => {
    expect(ranges.match('2001:db7:ffff:ffff:ffff:ffff:ffff:ffff')).toBeUndefined();
    expect(ranges.match('2001:db8::')).toBe('beta');
    expect(ranges.match('2001:0db8:0000:0000:0000:0000:0000:0001')).toBe('beta');
    expect(ranges.match('2001:DB8:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF')).toBe('beta');
    expect(ranges.match('2001:db9::')).toBeUndefined();
  });

  it('matches an IPv4-mapped IPv6 address as the IPv4 address it carries', () => {
    expect(ranges.match('::ffff:198.51.100.7')).toBe('alpha');
    expect(ranges.match('::ffff:c633:6407')).toBe('alpha');
    expect(ranges.match('::ffff:198.51.101.7')).toBeUndefined();
  });

  it('answers undefined, never throws, for anything that is not a bare address', () => {
    const junk: unknown[] = [
      '', 'abc', '198.51.100', '198.51.100.1.1', '198.51.100.256', '198.051.100.1', '198.51.100.1 ', ' 198.51.100.1',
      '198.51.100.1/32', '198.51.100.1:443', '[2001:db8::1]', '2001:db8:::1', '2001:db8::g', ':::', null, undefined, 42,
    ];
    for (const ip of junk) expect(ranges.match(ip as string)).toBeUndefined();
  });

  it('covers the whole space with a /0 and nothing with an empty list', () => {
    const all = parseRanges('0.0.0.0/0 any\n::/0 any6');
    expect(all.match('0.0.0.0')).toBe('any');
    expect(all.match('255.255.255.255')).toBe('any');
    expect(all.match('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe('any6');
    const none = parseRanges('# nothing here\n');
    expect(none.size).toBe(0);
    expect(none.match('198.51.100.1')).toBeUndefined();
    expect(none.match('2001:db8::1')).toBeUndefined();
  });
});

describe('parseRanges: overlaps and merging', () => {
  it('gives an address to the more specific block when two providers overlap, whatever the order', () => {
    for (const text of ['198.51.100.0/24 big\n198.51.100.128/25 small', '198.51.100.128/25 small\n198.51.100.0/24 big']) {
      const ranges = parseRanges(text);
      expect(ranges.match('198.51.100.127')).toBe('big');
      expect(ranges.match('198.51.100.128')).toBe('small');
      expect(ranges.match('198.51.100.255')).toBe('small');
      expect(ranges.cidrs()).toEqual([
        { cidr: '198.51.100.0/25', provider: 'big' },
        { cidr: '198.51.100.128/25', provider: 'small' },
      ]);
    }
  });

  it('keeps the first provider when the same block is listed twice', () => {
    const ranges = parseRanges('2001:db8::/48 first\n2001:db8::/48 second');
    expect(ranges.match('2001:db8::1')).toBe('first');
    expect(ranges.size).toBe(1);
  });

  it('merges adjacent and overlapping blocks of one provider', () => {
    const ranges = parseRanges('198.51.100.128/25 a\n198.51.100.0/25 a\n198.51.100.64/26 a\n2001:db8::/33 a\n2001:db8:8000::/33 a');
    expect(ranges.cidrs()).toEqual([
      { cidr: '198.51.100.0/24', provider: 'a' },
      { cidr: '2001:db8::/32', provider: 'a' },
    ]);
    expect(ranges.size).toBe(2);
  });

  it('splits a merged run that does not fit one block into the fewest blocks', () => {
    const ranges = parseRanges('198.51.100.1/32 a\n198.51.100.2/31 a\n198.51.100.4/30 a');
    expect(ranges.cidrs().map((c) => c.cidr)).toEqual(['198.51.100.1/32', '198.51.100.2/31', '198.51.100.4/30']);
  });

  it('matches like a longest-prefix lookup over the raw lines, and cidrs() parses back to the same list', () => {
    const block = fc.record({
      // Blocks inside 198.51.0.0/16 so that random blocks overlap often.
      start: fc.integer({ min: 0, max: 0xffff }),
      bits: fc.integer({ min: 16, max: 32 }),
      provider: fc.constantFrom('a', 'b', 'c'),
    });
    fc.assert(
      fc.property(fc.array(block, { maxLength: 12 }), fc.array(fc.integer({ min: 0xc632ff00, max: 0xc6340100 }), { maxLength: 40 }), (raw, probes) => {
        const base = 0xc6330000; // 198.51.0.0
        const blocks = raw.map(({ start, bits, provider }) => {
          const span = 2 ** (32 - bits);
          const first = base + start - (start % span);
          return { first, last: first + span - 1, bits, provider };
        });
        const text = blocks.map((b) => `${dotted(b.first)}/${b.bits} ${b.provider}`).join('\n');
        const ranges = parseRanges(text);
        for (const ip of probes) {
          const covering = blocks.filter((b) => b.first <= ip && ip <= b.last);
          const best = covering.reduce<(typeof blocks)[number] | undefined>((win, b) => (win === undefined || b.bits > win.bits ? b : win), undefined);
          expect(ranges.match(dotted(ip))).toBe(best?.provider);
        }
        const again = parseRanges(ranges.cidrs().map((c) => `${c.cidr} ${c.provider}`).join('\n'));
        expect(again.cidrs()).toEqual(ranges.cidrs());
        expect(ranges.size).toBe(ranges.cidrs().length);
      }),
      { numRuns: 300 },
    );
  });
});

function dotted(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

describe('parseRanges: malformed lines', () => {
  const cases: Array<[string, string]> = [
    ['198.51.100.0/24', 'got 1 field'],
    ['198.51.100.0/24 a b', 'got 3 fields'],
    ['198.51.100.0 a', 'is not a CIDR block'],
    ['198.51.100.0/ a', 'is not a CIDR block'],
    ['198.51.100.0/33 a', 'longer than 32'],
    ['2001:db8::/129 a', 'longer than 128'],
    ['198.51.100.300/32 a', 'is not an IPv4 address'],
    ['198.51.100.1/24 a', 'has host bits set (the block is 198.51.100.0/24)'],
    ['2001:db8::1/32 a', 'has host bits set (the block is 2001:db8::/32)'],
    ['2001:db8:::/32 a', 'is not an IPv6 address'],
    ['fe80::%eth0/64 a', 'is not an IPv6 address'],
    ['::ffff:198.51.100.0/120 a', 'write it as IPv4'],
    ['198.51.100.0/24 bad/name', 'provider "bad/name"'],
  ];

  it.each(cases)('refuses %j with its line number', (line, problem) => {
    const error = parseError(`# header\n\n198.51.99.0/24 ok\n${line}\n198.51.101.0/24 ok`);
    expect(error.code).toBe('invalid_config');
    expect(error.message).toContain('test.txt line 4: ');
    expect(error.message).toContain(problem);
    expect(error.details).toEqual({ source: 'test.txt', line: 4 });
  });

  it('accepts CRLF line ends, surrounding blanks, tabs and trailing comments', () => {
    const ranges = parseRanges('  198.51.100.0/24\talpha   # a comment\r\n\r\n#\r\n2001:db8::/32 beta\r\n');
    expect(ranges.match('198.51.100.1')).toBe('alpha');
    expect(ranges.match('2001:db8::1')).toBe('beta');
  });
});

describe('loadRangesFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'earnest-datacenter-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads an operator-written file in the same format', () => {
    const path = join(dir, 'ranges.txt');
    writeFileSync(path, '# refreshed list\n198.51.100.0/24 examplecloud\n');
    expect(loadRangesFile(path).match('198.51.100.9')).toBe('examplecloud');
  });

  it('names the file and line of a malformed entry', () => {
    const path = join(dir, 'broken.txt');
    writeFileSync(path, '198.51.100.0/24 ok\n198.51.100.0/24\n');
    expect(() => loadRangesFile(path)).toThrow(`${path} line 2: `);
  });

  it('refuses a missing file with an AppError naming it', () => {
    const path = join(dir, 'missing.txt');
    expect(() => loadRangesFile(path)).toThrow(AppError);
    expect(() => loadRangesFile(path)).toThrow(`cannot read data-centre ranges file ${path}`);
  });
});

describe('the shipped list', () => {
  const ranges = defaultDatacenterRanges();
  const text = readFileSync(new URL('./ranges.txt', import.meta.url), 'utf8');

  it('is parsed once', () => {
    expect(defaultDatacenterRanges()).toBe(ranges);
  });

  it('knows addresses of every provider it ships, IPv4 and IPv6', () => {
    const known: Array<[string, string]> = [
      ['3.5.140.0', 'aws'], // 3.5.140.0/22, first address
      ['3.5.143.255', 'aws'], // 3.5.140.0/22, last address
      ['52.94.76.1', 'aws'],
      ['2600:1f18::1', 'aws'],
      ['34.64.0.0', 'google'], // 34.64.0.0/10
      ['34.127.255.255', 'google'],
      ['8.8.8.8', 'google'],
      ['2600:1900::1', 'google'],
      ['40.112.0.1', 'microsoft'],
      ['20.40.1.1', 'microsoft'],
      ['2603:1000::1', 'microsoft'],
      ['129.146.0.1', 'oracle'],
      ['150.136.0.1', 'oracle'],
      ['159.203.0.1', 'digitalocean'],
      ['2604:a880:0:1010::1', 'digitalocean'],
      ['139.162.0.1', 'linode'],
      ['2600:3c00::1', 'linode'],
      ['5.9.0.1', 'hetzner'],
      ['2a01:4f8::1', 'hetzner'],
      ['51.38.0.1', 'ovh'],
      ['2001:41d0::1', 'ovh'],
      ['::ffff:3.5.140.1', 'aws'],
    ];
    for (const [ip, provider] of known) expect(ranges.match(ip), ip).toBe(provider);
  });

  it('does not flag residential, private or documentation addresses used in tests', () => {
    for (const ip of ['73.1.2.3', '86.140.1.1', '192.0.2.1', '198.51.100.1', '203.0.113.1', '10.0.0.1', '192.168.1.1', '127.0.0.1', '2001:db8::1', '::1']) {
      expect(ranges.match(ip), ip).toBeUndefined();
    }
  });

  it('states a source and a date for every provider it ships', () => {
    const providers = new Set(ranges.cidrs().map((c) => c.provider));
    expect([...providers].sort()).toEqual(['aws', 'digitalocean', 'google', 'hetzner', 'linode', 'microsoft', 'oracle', 'ovh']);
    for (const provider of providers) {
      const section = text.split(new RegExp(`^# ${provider} +`, 'm'))[1]?.split(/^# \S/m)[0] ?? '';
      expect(section, provider).toMatch(/via github\.com\/\S+ \S+ @ [0-9a-f]{40}/);
      expect(section, provider).toMatch(/data date/);
    }
  });

  it('is stored merged, one line per block', () => {
    const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
    expect(ranges.size).toBe(lines.length);
  });
});
