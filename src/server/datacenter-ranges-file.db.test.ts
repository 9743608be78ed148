import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApi, type TestApi } from '../../test/support/api.js';

/**
 * DATACENTER_RANGES_FILE: an operator's updated list of data-centre ranges replaces the shipped one
 * for the whole server (the click writer and validation); a malformed list stops the start.
 */
const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36';
let dir: string;
let api: TestApi | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'earnest-ranges-'));
});
afterAll(async () => {
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('DATACENTER_RANGES_FILE', () => {
  it('judges clicks by the operator’s list instead of the shipped one', async () => {
    const file = join(dir, 'ranges.txt');
    writeFileSync(file, '# our own list\n198.51.100.0/24 examplecloud\n');
    api = await startTestApi({ DATACENTER_RANGES_FILE: file, TRUST_PROXY: 'true', CLICK_FLUSH_INTERVAL_MS: '60000' });
    const org = (await api.call('POST', '/v1/organizations', { key: api.operatorKey, body: { name: 'Ranges' } })).body.api_key;
    await api.call('POST', '/v1/deposits', { key: org, body: { amount: '10.00', currency: 'USD', reference: 'd1' } });
    const creator = (await api.call('POST', '/v1/creators', { key: api.operatorKey, body: { name: 'C', email: 'c@creators.example' } })).body.api_key;
    const terms = {
      objective: 'cpc', rate: '0.10', currency: 'USD', budget: '10.00', destination_url: 'https://shop.example/',
      starts_at: '2026-01-01T00:00:00Z', ends_at: '2030-01-01T00:00:00Z', kpi_target: 1,
    };
    const c = (await api.call('POST', '/v1/campaigns', { key: org, body: { name: 'R', terms } })).body;
    await api.call('POST', `/v1/campaigns/${c.id}/fund`, { key: org, body: { reference: 'f1' } });
    await api.call('POST', `/v1/campaigns/${c.id}/activate`, { key: org, body: {} });
    const joined = (await api.call('POST', `/v1/campaigns/${c.id}/enrolments`, { key: creator, body: { terms_version: c.terms_version, terms_sha256: c.terms_sha256 } })).body;
    for (const ip of ['198.51.100.7', '3.5.140.9']) {
      const r = await api.call('GET', `/c/${joined.link_code}`, { headers: { 'x-forwarded-for': ip, 'user-agent': CHROME } });
      expect(r.status).toBe(302);
    }
    await api.services.tracker?.flush();
    const rows = await sql<{ status: string }>`select status from clicks where campaign_id = ${c.id} order by status`.execute(api.database.db);
    // The listed address is a data centre; AWS's, absent from this list, is not.
    expect(rows.rows.map((r) => r.status)).toEqual(['datacenter', 'valid']);
  });

  it('refuses to start with a malformed list, naming the file and line', async () => {
    const file = join(dir, 'broken.txt');
    writeFileSync(file, '198.51.100.0/24 examplecloud\nnot-a-range here\n');
    await expect(startTestApi({ DATACENTER_RANGES_FILE: file })).rejects.toMatchObject({ code: 'invalid_config', message: expect.stringMatching(/line 2/) });
  });
});
