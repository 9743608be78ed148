import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import {
  checkLead,
  checkLeadOnline,
  DEFAULT_LEAD_SETTINGS,
  LEAD_REASONS,
  NO_ONLINE_CHECKS,
  type LeadInput,
  type LeadSettings,
  type OnlineLeadChecks,
} from './index.js';

const CLEAN: LeadInput = { email: 'ada.lovelace@gmail.com', phone: '06 12 34 56 78', country: 'FR', age: 36 };
const ANY: LeadSettings = { ...DEFAULT_LEAD_SETTINGS, required_fields: [] };

function lead(patch: Partial<LeadInput>): LeadInput {
  return { ...CLEAN, ...patch };
}
function reasons(patch: Partial<LeadInput>, settings: LeadSettings = DEFAULT_LEAD_SETTINGS): string[] {
  return checkLead(lead(patch), settings).reasons;
}

describe('a clean lead', () => {
  it('scores 100 with no reasons and both keys', () => {
    expect(checkLead(CLEAN, DEFAULT_LEAD_SETTINGS)).toEqual({
      score: 100,
      reasons: [],
      emailKey: 'adalovelace@gmail.com',
      phoneKey: '+33612345678',
    });
  });

  it('may leave out optional fields at no cost', () => {
    expect(checkLead({ email: 'ada@example.org', phone: null, country: null, age: null }, DEFAULT_LEAD_SETTINGS)).toEqual({
      score: 100,
      reasons: [],
      emailKey: 'ada@example.org',
      phoneKey: null,
    });
  });

  it('is not faulted for plus-addressing, upper case or surrounding whitespace', () => {
    const check = checkLead(lead({ email: '  ADA.Lovelace+Shop@Example.ORG  ' }), DEFAULT_LEAD_SETTINGS);
    expect(check.reasons).toEqual([]);
    expect(check.emailKey).toBe('ada.lovelace@example.org');
  });
});

describe('required_field_missing', () => {
  const all: LeadSettings = { ...ANY, required_fields: ['email', 'phone', 'country', 'age'] };

  it('is absent when every required field is given', () => {
    expect(reasons({}, all)).toEqual([]);
  });

  it.each([
    ['email', { email: null }],
    ['email', { email: '   ' }],
    ['phone', { phone: '' }],
    ['country', { country: null }],
    ['age', { age: null }],
  ] as const)('fires when %s is missing (%j)', (field, patch) => {
    expect(reasons(patch, { ...ANY, required_fields: [field] })).toContain('required_field_missing');
    expect(reasons(patch, ANY)).not.toContain('required_field_missing');
  });

  it('is reported once however many fields are missing', () => {
    const check = checkLead({ email: null, phone: null, country: null, age: null }, all);
    expect(check.reasons).toEqual(['required_field_missing', 'lead_score_low']);
  });

  it('defaults to requiring an email only', () => {
    expect(reasons({ email: null })).toContain('required_field_missing');
    expect(reasons({ phone: null, country: null, age: null })).toEqual([]);
  });

  it('is about presence: a given but wrong value is reported by its own check', () => {
    expect(reasons({ email: 'nope' }, all)).toEqual(['email_invalid', 'lead_score_low']);
  });
});

describe('email_invalid', () => {
  it.each(['nope', 'ada@', '@gmail.com', 'ada@localhost', 'ada@1.2.3.4', 'a b@example.org', 'ada@example..org', 'Ada <ada@example.org>'])(
    'fires for %j, with no key and no further email checks',
    (email) => {
      const check = checkLead(lead({ email }), DEFAULT_LEAD_SETTINGS);
      expect(check.reasons).toEqual(['email_invalid', 'lead_score_low']);
      expect(check.emailKey).toBeNull();
    },
  );

  it('accepts internationalised addresses', () => {
    expect(reasons({ email: 'josé@bücher.de' })).toEqual([]);
    expect(reasons({ email: 'ada@日本.jp' })).toEqual([]);
  });
});

describe('email_disposable', () => {
  it.each(['ada@mailinator.com', 'ada@YOPMAIL.com', 'ada@guerrillamail.com', 'ada@inbox.mailinator.com'])('fires for %s', (email) => {
    expect(reasons({ email })).toEqual(['email_disposable', 'lead_score_low']);
  });

  it('does not fire for ordinary providers and company domains', () => {
    for (const email of ['ada@gmail.com', 'ada@outlook.com', 'ada@web.de', 'ada@acme-widgets.co.uk']) {
      expect(reasons({ email })).toEqual([]);
    }
  });
});

describe('email_role_account', () => {
  it.each(['info@acme.com', 'Sales@acme.com', 'support+leads@acme.com', 'no-reply@acme.com', 'no_reply@acme.com', 'admin@acme.com', 'postmaster@acme.com'])(
    'fires for %s, as a soft signal that passes the default threshold',
    (email) => {
      expect(checkLead(lead({ email }), DEFAULT_LEAD_SETTINGS)).toMatchObject({ score: 80, reasons: ['email_role_account'] });
    },
  );

  it('does not fire for a person whose name contains a role word', () => {
    for (const email of ['information.officer.jane@acme.com', 'salesforce.fan@acme.com', 'adminah@acme.com', 'jane.info@acme.com']) {
      expect(reasons({ email })).toEqual([]);
    }
  });
});

describe('email_typo_domain', () => {
  it.each([
    'gmial.com', 'gmail.co', 'gmail.cm', 'gmail.con', 'gmail.cmo', 'gamil.com', 'gmai.com', 'gmaill.com',
    'hotmial.com', 'hotmai.com', 'hotmail.co', 'yaho.com', 'yahooo.com', 'yahoo.cm', 'outlok.com', 'outlook.co',
    'iclod.com', 'aol.con', 'googlemial.com', 'hotmail.co.uj', 'GMIAL.COM',
  ])('fires for %s', (domain) => {
    const check = checkLead(lead({ email: `ada@${domain}` }), DEFAULT_LEAD_SETTINGS);
    expect(check.reasons).toContain('email_typo_domain');
    expect(check.reasons).toContain('lead_score_low');
  });

  it.each([
    'gmail.com', 'googlemail.com', 'gmx.com', 'gmx.de', 'gmx.net', 'gmx.at', 'mail.com', 'email.com', 'ymail.com',
    'live.com', 'aol.com', 'msn.com', 'me.com', 'mac.com', 'cloud.com', 'yahoo.co.uk', 'yahoo.ca', 'yahoo.fr',
    'hotmail.fr', 'hotmail.co.uk', 'hotmail.com.br', 'outlook.de', 'aol.de', 'live.ca', 'web.de', 'mail.ru',
    'protonmail.ch', 'yandex.com', 'yandex.ua', 'hp.com', 'ge.com', 'example.org', 'yopmail.com', 'mozmail.com',
  ])('does not fire for the legitimate %s', (domain) => {
    expect(reasons({ email: `ada@${domain}` })).not.toContain('email_typo_domain');
  });

  it('is the only reason for a typo domain that mailchecker does not list', () => {
    expect(reasons({ email: 'ada@gmail.con' })).toEqual(['email_typo_domain', 'lead_score_low']);
  });

  it('is reported alongside email_disposable for a typo domain that mailchecker lists', () => {
    expect(reasons({ email: 'ada@hotmial.com' })).toEqual(['email_disposable', 'email_typo_domain', 'lead_score_low']);
  });
});

describe('phone_invalid', () => {
  it.each([
    ['12', 'FR'],
    ['not a phone', 'FR'],
    ['call me on 06 12 34 56 78', 'FR'],
    ['12', null],
    ['call me on 06 12 34 56 78', null],
    ['+33 6 12', null],
    ['+1 555 0100', 'US'],
  ])('fires for %j in %s, with no key', (phone, country) => {
    const check = checkLead(lead({ phone, country }), DEFAULT_LEAD_SETTINGS);
    expect(check.reasons).toEqual(['phone_invalid', 'lead_score_low']);
    expect(check.phoneKey).toBeNull();
  });

  it('reads a national number in the customer country, whatever its case', () => {
    expect(checkLead(lead({ phone: '0612345678', country: ' fr ' }), DEFAULT_LEAD_SETTINGS).phoneKey).toBe('+33612345678');
  });

  it('accepts an international number from another country than the customer', () => {
    const check = checkLead(lead({ phone: '+44 20 7946 0958', country: 'FR' }), DEFAULT_LEAD_SETTINGS);
    expect(check).toMatchObject({ reasons: [], phoneKey: '+442079460958' });
  });

  it.each([
    ['06 12 34 56 78', null],
    ['06 12 34 56 78', 'ZZ'],
    ['(415) 555-0199', null],
  ])('does not judge the national number %j when the country is unknown (%s): no reason, no duplicate key', (phone, country) => {
    expect(checkLead(lead({ phone, country }), DEFAULT_LEAD_SETTINGS)).toMatchObject({ reasons: [], phoneKey: null });
  });

  it('accepts an international number without a country', () => {
    expect(checkLead(lead({ phone: '+1 (202) 555-0100', country: null }), DEFAULT_LEAD_SETTINGS)).toMatchObject({
      reasons: [],
      phoneKey: '+12025550100',
    });
  });
});

describe('country_not_targeted', () => {
  const targets: LeadSettings = { ...ANY, target_countries: ['FR', 'be'] };

  it('matches target countries whatever the case on either side', () => {
    expect(reasons({ country: 'fr' }, targets)).toEqual([]);
    expect(reasons({ country: 'BE', phone: null }, targets)).toEqual([]);
    expect(reasons({ country: 'FR' }, { ...ANY, target_countries: [' fr '] })).toEqual([]);
  });

  it('fires for a country outside the targets', () => {
    expect(reasons({ country: 'DE', phone: null }, targets)).toEqual(['country_not_targeted', 'lead_score_low']);
  });

  it('never fires for an unknown country: absent data is not evidence; a brand that needs it requires it', () => {
    expect(reasons({ country: null, phone: null }, targets)).toEqual([]);
    expect(reasons({ country: ' ', phone: null }, targets)).toEqual([]);
    expect(reasons({ country: null, phone: null }, { ...targets, required_fields: ['email', 'country'] })).toEqual([
      'required_field_missing',
      'lead_score_low',
    ]);
  });

  it('never fires when the campaign targets any country (null)', () => {
    expect(reasons({ country: 'JP', phone: null }, ANY)).toEqual([]);
    expect(reasons({ country: null, phone: null }, ANY)).toEqual([]);
  });

  it('fires for every country when the target list is empty', () => {
    expect(reasons({ country: 'FR' }, { ...ANY, target_countries: [] })).toContain('country_not_targeted');
  });
});

describe('age_out_of_range', () => {
  const adults: LeadSettings = { ...ANY, age_min: 18, age_max: 65 };

  it.each([
    [18, true],
    [65, true],
    [17, false],
    [17.9, false],
    [66, false],
  ])('age %d with bounds 18–65 inclusive: passes = %s', (age, passes) => {
    expect(reasons({ age }, adults).includes('age_out_of_range')).toBe(!passes);
  });

  it('applies a single bound on its own', () => {
    expect(reasons({ age: 90 }, { ...ANY, age_min: 18 })).toEqual([]);
    expect(reasons({ age: 17 }, { ...ANY, age_min: 18 })).toContain('age_out_of_range');
    expect(reasons({ age: 30 }, { ...ANY, age_max: 29 })).toContain('age_out_of_range');
  });

  it.each([0, -1, Number.NaN, Number.POSITIVE_INFINITY, 200])('reads the implausible age %d as no age: it passes, unless age is required', (age) => {
    expect(reasons({ age }, ANY)).toEqual([]);
    expect(reasons({ age }, adults)).toEqual([]);
    expect(reasons({ age }, { ...adults, required_fields: ['email', 'age'] })).toEqual(['required_field_missing', 'lead_score_low']);
  });

  it('never fires for an unknown age, with or without bounds', () => {
    expect(reasons({ age: null }, adults)).toEqual([]);
    expect(reasons({ age: null }, { ...ANY, age_max: 65 })).toEqual([]);
    expect(reasons({ age: null }, ANY)).toEqual([]);
  });
});

describe('score and lead_score_low', () => {
  it.each([
    ['email_invalid', { email: 'nope' }, DEFAULT_LEAD_SETTINGS],
    ['email_disposable', { email: 'ada@mailinator.com' }, DEFAULT_LEAD_SETTINGS],
    ['email_typo_domain', { email: 'ada@gmail.con' }, DEFAULT_LEAD_SETTINGS],
    ['phone_invalid', { phone: '12' }, DEFAULT_LEAD_SETTINGS],
    ['required_field_missing', { email: null }, DEFAULT_LEAD_SETTINGS],
    ['country_not_targeted', { country: 'DE', phone: null }, { ...DEFAULT_LEAD_SETTINGS, target_countries: ['FR'] }],
    ['age_out_of_range', { age: 17 }, { ...DEFAULT_LEAD_SETTINGS, age_min: 18 }],
  ] as const)('a lone %s fails the default threshold', (reason, patch, settings) => {
    const check = checkLead(lead(patch), settings);
    expect(check.reasons).toEqual([reason, 'lead_score_low']);
    expect(check.score).toBeLessThan(DEFAULT_LEAD_SETTINGS.min_lead_score);
  });

  it('passes a score exactly at the threshold and fails one point below', () => {
    const role = lead({ email: 'info@acme.com' });
    expect(checkLead(role, { ...DEFAULT_LEAD_SETTINGS, min_lead_score: 80 }).reasons).toEqual(['email_role_account']);
    expect(checkLead(role, { ...DEFAULT_LEAD_SETTINGS, min_lead_score: 81 }).reasons).toEqual(['email_role_account', 'lead_score_low']);
  });

  it('lets a brand accept hard failures only by lowering its threshold', () => {
    expect(checkLead(lead({ phone: '12' }), { ...DEFAULT_LEAD_SETTINGS, min_lead_score: 0 }).reasons).toEqual(['phone_invalid']);
  });

  it('fails closed on a NaN threshold', () => {
    expect(checkLead(CLEAN, { ...DEFAULT_LEAD_SETTINGS, min_lead_score: Number.NaN }).reasons).toEqual(['lead_score_low']);
  });

  it('floors at 0 and lists reasons in LEAD_REASONS order', () => {
    const check = checkLead(
      { email: 'support@gmail.con', phone: '12', country: 'DE', age: 16 },
      { required_fields: ['email'], target_countries: ['FR'], age_min: 18, age_max: null, min_lead_score: 50 },
    );
    expect(check.score).toBe(0);
    expect(check.reasons).toEqual(['email_typo_domain', 'email_role_account', 'phone_invalid', 'country_not_targeted', 'age_out_of_range', 'lead_score_low']);
  });

  it('always gives an integer score in 0–100, known reasons in order without duplicates, and lead_score_low exactly below the threshold', () => {
    const text = fc.option(fc.oneof(fc.string(), fc.emailAddress(), fc.constantFrom('+33 6 12 34 56 78', '0612345678', 'info@gmial.com')), { nil: null });
    fc.assert(
      fc.property(
        fc.record({
          email: text,
          phone: text,
          country: fc.option(fc.constantFrom('FR', 'us', 'de', 'XX', ''), { nil: null }),
          age: fc.option(fc.oneof(fc.integer({ min: -5, max: 130 }), fc.double()), { nil: null }),
        }),
        fc.integer({ min: 0, max: 100 }),
        (input, min) => {
          const { score, reasons: found } = checkLead(input, { ...DEFAULT_LEAD_SETTINGS, target_countries: ['FR'], age_min: 18, min_lead_score: min });
          expect(Number.isInteger(score) && score >= 0 && score <= 100).toBe(true);
          expect(found).toEqual(LEAD_REASONS.filter((r) => found.includes(r)));
          expect(found.includes('lead_score_low')).toBe(score < min);
        },
      ),
    );
  });
});

describe('duplicate keys', () => {
  const key = (email: string) => checkLead(lead({ email }), DEFAULT_LEAD_SETTINGS).emailKey;
  const phoneKey = (phone: string, country: string | null) => checkLead(lead({ phone, country }), DEFAULT_LEAD_SETTINGS).phoneKey;

  it('gives one email key across case, plus-tags, Gmail dots and googlemail.com', () => {
    expect(key('Ada.L+shop@GoogleMail.com')).toBe('adal@gmail.com');
    expect(key('adal@gmail.com')).toBe('adal@gmail.com');
  });

  it('keeps dots outside Gmail, where they distinguish mailboxes', () => {
    expect(key('ada.l@example.org')).not.toBe(key('adal@example.org'));
  });

  it('gives one key to an IDN domain in Unicode and in punycode, and to composed and decomposed letters', () => {
    expect(key('josé@BÜCHER.de')).toBe(key('josé@xn--bcher-kva.de'));
    expect(key('jose\u0301@example.org')).toBe(key('jos\u00e9@example.org'));
    expect(key('ÅSA@EXAMPLE.SE')).toBe('åsa@example.se');
  });

  it('gives one phone key to national and international spellings', () => {
    const keys = [phoneKey('06 12 34 56 78', 'FR'), phoneKey('+33 6 12 34 56 78', 'FR'), phoneKey('0033612345678', 'FR'), phoneKey('+33612345678', null), phoneKey('+33 (0)6 12-34-56-78', 'DE')];
    expect(new Set(keys)).toEqual(new Set(['+33612345678']));
    expect(phoneKey('0033 6 12 34 56 78', null)).toBe('+33612345678');
  });
});

describe('duplicate keys, as properties', () => {
  const key = (email: string) => checkLead(lead({ email }), DEFAULT_LEAD_SETTINGS).emailKey;
  const phoneKey = (phone: string, country: string | null) => checkLead(lead({ phone, country }), DEFAULT_LEAD_SETTINGS).phoneKey;
  const letters = fc.stringMatching(/^[a-z][a-z0-9]{0,11}$/);
  const tag = fc.stringMatching(/^[a-z0-9_-]{1,10}$/);
  const domain = fc.constantFrom('example.org', 'shop.example', 'outlook.com', 'icloud.com', 'yahoo.fr', 'xn--bcher-kva.de');
  /** Random upper/lower case per character. */
  const recase = (s: string, mask: number) => [...s].map((c, i) => ((mask >> i % 30) & 1 ? c.toUpperCase() : c)).join('');

  it('are one key whatever the case of the address and however many plus-tags it carries', () => {
    fc.assert(
      fc.property(letters, domain, fc.option(tag, { nil: null }), fc.nat(), (local, d, t, mask) => {
        const plain = key(`${local}@${d}`);
        expect(plain).not.toBeNull();
        expect(key(recase(`${local}${t === null ? '' : `+${t}`}@${d}`, mask))).toBe(plain);
      }),
      { numRuns: 300 },
    );
  });

  it('ignore dots in Gmail and Googlemail local parts, and only there', () => {
    fc.assert(
      fc.property(letters, fc.array(fc.nat(), { maxLength: 4 }), fc.constantFrom('gmail.com', 'googlemail.com', 'GMail.com'), (local, cuts, d) => {
        fc.pre(local.length >= 2);
        const dotted = [...local].map((c, i) => (i > 0 && cuts.some((n) => n % local.length === i) ? `.${c}` : c)).join('');
        expect(key(`${dotted}@${d}`)).toBe(`${local}@gmail.com`);
        if (dotted !== local) expect(key(`${dotted}@example.org`)).not.toBe(key(`${local}@example.org`));
      }),
      { numRuns: 300 },
    );
  });

  it('keep distinct mailboxes distinct: different local parts never share a key outside Gmail', () => {
    fc.assert(
      fc.property(letters, letters, domain, (a, b, d) => {
        fc.pre(a !== b);
        expect(key(`${a}@${d}`)).not.toBe(key(`${b}@${d}`));
      }),
      { numRuns: 300 },
    );
  });

  it('give a phone number one E.164 key however it is spaced, punctuated or prefixed', () => {
    // A French mobile (6 + 8 digits) that the numbering plan assigns: the property is about spelling.
    const fr = fc
      .integer({ min: 0, max: 99_999_999 })
      .map((n) => `6${String(n).padStart(8, '0')}`)
      .filter((d) => phoneKey(`+33${d}`, null) !== null);
    const sep = fc.constantFrom('', ' ', '-', '.');
    fc.assert(
      fc.property(fr, sep, fc.constantFrom('FR', 'fr', 'DE', null), (digits, s, country) => {
        const pairs = digits.match(/^(\d)(\d\d)(\d\d)(\d\d)(\d\d)$/)!.slice(1);
        const international = [`+33${s}${pairs.join(s)}`, `0033${s}${pairs.join(s)}`, `+33 (0)${pairs.join(s)}`];
        const e164 = `+33${digits}`;
        for (const spelled of international) expect(phoneKey(spelled, country)).toBe(e164);
        if (country?.toUpperCase() === 'FR') expect(phoneKey(`0${pairs.join(s)}`, country)).toBe(e164);
      }),
      { numRuns: 300 },
    );
  });
});

describe('checkLeadOnline', () => {
  const mx = (answer: boolean | undefined): OnlineLeadChecks => ({ hasMx: vi.fn(async () => answer) });

  it('with NO_ONLINE_CHECKS equals checkLead', async () => {
    for (const input of [CLEAN, lead({ email: 'nope' }), lead({ email: 'info@acme.com', phone: '12' })]) {
      expect(await checkLeadOnline(input, DEFAULT_LEAD_SETTINGS, NO_ONLINE_CHECKS)).toEqual(checkLead(input, DEFAULT_LEAD_SETTINGS));
    }
  });

  it('adds email_no_mx, in order, when the domain has no mail server', async () => {
    const check = await checkLeadOnline(lead({ email: 'info@acme.example' }), DEFAULT_LEAD_SETTINGS, mx(false));
    expect(check.reasons).toEqual(['email_no_mx', 'email_role_account', 'lead_score_low']);
    expect(check.score).toBeLessThan(DEFAULT_LEAD_SETTINGS.min_lead_score);
  });

  it('changes nothing when the domain has a mail server or the answer is unknown', async () => {
    expect(await checkLeadOnline(CLEAN, DEFAULT_LEAD_SETTINGS, mx(true))).toEqual(checkLead(CLEAN, DEFAULT_LEAD_SETTINGS));
    expect(await checkLeadOnline(CLEAN, DEFAULT_LEAD_SETTINGS, mx(undefined))).toEqual(checkLead(CLEAN, DEFAULT_LEAD_SETTINGS));
  });

  it('changes nothing when the lookup fails', async () => {
    const failing: OnlineLeadChecks = { hasMx: async () => Promise.reject(new Error('ETIMEOUT')) };
    expect(await checkLeadOnline(CLEAN, DEFAULT_LEAD_SETTINGS, failing)).toEqual(checkLead(CLEAN, DEFAULT_LEAD_SETTINGS));
  });

  it('asks about the ASCII domain of a valid email, and only then', async () => {
    const online = mx(true);
    await checkLeadOnline(lead({ email: 'Josef@Bücher.DE' }), DEFAULT_LEAD_SETTINGS, online);
    await checkLeadOnline(lead({ email: 'nope' }), DEFAULT_LEAD_SETTINGS, online);
    await checkLeadOnline(lead({ email: null }), DEFAULT_LEAD_SETTINGS, online);
    expect(online.hasMx).toHaveBeenCalledTimes(1);
    expect(online.hasMx).toHaveBeenCalledWith('xn--bcher-kva.de');
  });
});
