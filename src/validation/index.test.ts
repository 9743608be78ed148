import { describe, expect, it } from 'vitest';
import { normaliseEmail } from './index.js';

/** The form customer emails are compared in (lead de-duplication, promo uses). The validator itself is tested in live/. */
describe('normaliseEmail', () => {
  it.each([
    ['Bob@Shop.Example', 'bob@shop.example'],
    ['  bob+promo@shop.example ', 'bob@shop.example'],
    ['b.o.b@shop.example', 'b.o.b@shop.example'],
    ['Ada.L+shop@GoogleMail.com', 'adal@gmail.com'],
    ['a.d.a@gmail.com', 'ada@gmail.com'],
    ['+tag@shop.example', '+tag@shop.example'],
  ])('%s → %s', (email, expected) => {
    expect(normaliseEmail(email)).toBe(expected);
  });
});
