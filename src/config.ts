import { isIP } from 'node:net';
import { z } from 'zod';
import { parseStore, STORE_FORMS, type StoreConfig } from './composition-root.js';
import {
  DEFAULT_CONNECTION_LIMITS,
  DEFAULT_DATA_DIR,
  DEFAULT_DURABILITY,
  DEFAULT_HORIZON_SECONDS,
  DEFAULT_HOST,
  DEFAULT_LOG_LEVEL,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_HITS_PER_SECOND,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_MAX_STREAMS,
  DEFAULT_METRICS_TOP_ACCOUNTS,
  DEFAULT_PAGE_CACHE_MIB,
  DEFAULT_PORT,
  DEFAULT_REGION,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  DEFAULT_STORE,
  DEFAULT_VALUE_CAP,
  MAX_BODY_BYTES_LIMIT,
  MAX_HORIZON_SECONDS,
  MAX_MAX_HEADER_BYTES,
  MAX_METRICS_TOP_ACCOUNTS,
  MAX_VALUE_CAP,
  MIN_HORIZON_SECONDS,
  MIN_MAX_HEADER_BYTES,
  MIN_METRICS_TOKEN_LENGTH,
} from './defaults.js';
import { MAX_TOP } from './model/split-top.js';
import { SPLIT_NAMES, type SplitName } from './protocol/dimensions.js';

/**
 * The one place that reads options: command-line flags first, then `ACTIVENOW_<OPTION>` environment
 * variables, then defaults. Every problem is reported at once; the result is frozen.
 */

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = (max: number) => z.coerce.number().int().min(1).max(max);
/** Milliseconds, 0 meaning off where the option says so. */
const milliseconds = z.coerce
  .number()
  .int()
  .min(0)
  .max(24 * 3600 * 1000);

const storeSchema = z.string().transform((value, ctx): StoreConfig => {
  const store = parseStore(value);
  if (store !== undefined) return store;
  ctx.addIssue({ code: 'custom', message: `expected ${orList(STORE_FORMS)}` });
  return z.NEVER;
});

/** An IP address, or a CIDR range of them (`10.0.0.0/8`, `fd00::/8`). */
const addressOrRange = z.string().refine((text) => {
  const [address, prefix, ...rest] = text.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128));
}, 'expected IP addresses or CIDR ranges, comma-separated');

/** A comma-separated list, blanks around items and empty items left out. */
const commaList = z.string().transform((list) =>
  list
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== ''),
);

const region = z.string().regex(/^[a-z0-9-]{1,32}$/, 'expected 1-32 characters of a-z, 0-9 and -');

const serveFields = z.object({
  port: port.default(DEFAULT_PORT),
  host: z.string().min(1).default(DEFAULT_HOST),
  dataDir: z.string().min(1).default(DEFAULT_DATA_DIR),
  store: storeSchema.prefault(DEFAULT_STORE),
  region: region.default(DEFAULT_REGION),
  durability: z.enum(['process', 'full']).default(DEFAULT_DURABILITY),
  demo: z.stringbool().or(z.boolean()).default(false),
  maxBodyBytes: positiveInt(MAX_BODY_BYTES_LIMIT).default(DEFAULT_MAX_BODY_BYTES),
  maxInFlight: positiveInt(10_000).default(DEFAULT_MAX_IN_FLIGHT),
  maxHitsPerSecond: positiveInt(1_000_000).default(DEFAULT_MAX_HITS_PER_SECOND),
  maxStreams: positiveInt(10_000).default(DEFAULT_MAX_STREAMS),
  horizonSeconds: z.coerce
    .number()
    .int()
    .min(MIN_HORIZON_SECONDS)
    .max(MAX_HORIZON_SECONDS)
    .default(DEFAULT_HORIZON_SECONDS),
  valueCap: positiveInt(MAX_VALUE_CAP).default(DEFAULT_VALUE_CAP),
  pageCacheMib: positiveInt(65_536).default(DEFAULT_PAGE_CACHE_MIB),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default(DEFAULT_LOG_LEVEL),
  /** Off unless set: requests per second and account on average, bursts up to twice. */
  maxRequestsPerSecond: positiveInt(1_000_000).optional(),
  requestTimeoutMs: milliseconds.default(DEFAULT_CONNECTION_LIMITS.requestTimeoutMs),
  headersTimeoutMs: milliseconds.default(DEFAULT_CONNECTION_LIMITS.headersTimeoutMs),
  keepAliveTimeoutMs: milliseconds.min(1).default(DEFAULT_CONNECTION_LIMITS.keepAliveTimeoutMs),
  connectionTimeoutMs: milliseconds.default(DEFAULT_CONNECTION_LIMITS.connectionTimeoutMs),
  maxHeaderBytes: z.coerce
    .number()
    .int()
    .min(MIN_MAX_HEADER_BYTES)
    .max(MAX_MAX_HEADER_BYTES)
    .default(DEFAULT_CONNECTION_LIMITS.maxHeaderBytes),
  shutdownTimeoutMs: milliseconds.default(DEFAULT_SHUTDOWN_TIMEOUT_MS),
  /** When set, GET /metrics needs `Authorization: Bearer <token>`. */
  metricsToken: z
    .string()
    .regex(/^[\x21-\x7e]+$/, 'expected printable ASCII without spaces')
    .min(MIN_METRICS_TOKEN_LENGTH)
    .max(256)
    .optional(),
  /** Proxies whose X-Forwarded-For names the client (tracker hits' country); none: the socket's peer. */
  trustProxy: commaList.pipe(z.array(addressOrRange)).default([]),
  metricsTopAccounts: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_METRICS_TOP_ACCOUNTS)
    .default(DEFAULT_METRICS_TOP_ACCOUNTS),
});

// Node refuses a headers timeout longer than the request timeout.
const serveSchema = serveFields.refine(
  (config) => config.requestTimeoutMs === 0 || config.headersTimeoutMs <= config.requestTimeoutMs,
  { path: ['headersTimeoutMs'], message: 'must be at most requestTimeoutMs (unless that is 0)' },
);

export type ServeConfig = Readonly<z.infer<typeof serveSchema>>;

/** Every option of `serve`, camelCase. */
export const SERVE_OPTIONS: readonly string[] = Object.keys(serveFields.shape);

/** Options that name where data lives, shared by `serve` and the `accounts` commands. */
const storageSchema = serveFields.pick({ dataDir: true, store: true, region: true });
export type StorageConfig = Readonly<z.infer<typeof storageSchema>>;

const splitNames = ['user_type', ...SPLIT_NAMES, 'timeline', 'bots'] as const;

/**
 * `country=IN,US;device=Mobile;event=Purchase` → `{ country: ['IN', 'US'], device: ['Mobile'],
 * event: ['Purchase'] }`, the now.json filter; a name given twice keeps the values of both.
 */
const filterOption = z.string().transform((text, ctx): Partial<Record<SplitName, string[]>> => {
  const filter: Partial<Record<SplitName, string[]>> = {};
  const parts = text.split(';').filter((item) => item.trim() !== '');
  if (parts.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'expected dimension=value,value;…' });
    return z.NEVER;
  }
  for (const part of parts) {
    const [name, list, ...rest] = part.split('=');
    const dimension = SPLIT_NAMES.find((each) => each === name.trim());
    const values = commaList.parse(list ?? '');
    if (dimension === undefined || rest.length > 0 || values.length === 0) {
      ctx.addIssue({
        code: 'custom',
        message: `expected dimension=value,value;… with dimensions of ${SPLIT_NAMES.join(', ')}`,
      });
      return z.NEVER;
    }
    filter[dimension] = [...(filter[dimension] ?? []), ...values];
  }
  return filter;
});

/** Options of the commands that talk to a running server (`now`). */
const clientSchema = z.object({
  url: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8080'),
  account: z.string().min(1, 'required'),
  passcode: z.string().min(1, 'required'),
  split: commaList.pipe(z.array(z.enum(splitNames))).default([]),
  top: positiveInt(MAX_TOP).optional(),
  filter: filterOption.optional(),
  json: z.stringbool().or(z.boolean()).default(false),
});
export type ClientConfig = Readonly<z.infer<typeof clientSchema>>;

/** Options of `simulate`: a server and account, and the shape of the traffic. */
const simulateSchema = clientSchema.pick({ url: true, account: true, passcode: true }).extend({
  users: positiveInt(10_000_000).default(1000),
  rate: z.coerce.number().positive().max(100_000).default(20),
  /** Seconds; absent: until interrupted. */
  duration: z.coerce
    .number()
    .positive()
    .max(365 * 24 * 3600)
    .optional(),
  seed: z.coerce.number().int().min(0).max(0xffffffff).optional(),
});
export type SimulateConfig = Readonly<z.infer<typeof simulateSchema>>;

export type ConfigSource = {
  /** Parsed command-line flags, camelCase; undefined when not given. */
  readonly flags: Readonly<Record<string, unknown>>;
  readonly env: Readonly<Record<string, string | undefined>>;
};

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadServeConfig(source: ConfigSource): ServeConfig {
  return parse(serveSchema, source);
}

export function loadStorageConfig(source: ConfigSource): StorageConfig {
  return parse(storageSchema, source);
}

export function loadClientConfig(source: ConfigSource): ClientConfig {
  return parse(clientSchema, source);
}

export function loadSimulateConfig(source: ConfigSource): SimulateConfig {
  return parse(simulateSchema, source);
}

/** `maxBodyBytes` → `ACTIVENOW_MAX_BODY_BYTES`. */
export function envName(option: string): string {
  return `ACTIVENOW_${option.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`;
}

function parse<S extends z.ZodObject>(schema: S, source: ConfigSource): Readonly<z.infer<S>> {
  const raw: Record<string, unknown> = {};
  for (const option of Object.keys(schema.shape)) {
    const value = source.flags[option] ?? source.env[envName(option)];
    if (value !== undefined && value !== '') raw[option] = value;
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new ConfigError(
      result.error.issues.map((issue) => {
        const option = String(issue.path[0] ?? '');
        return `${option} (--${kebab(option)} / ${envName(option)}): ${issue.message}`;
      }),
    );
  }
  return Object.freeze(result.data);
}

/** `a, b or c`. */
function orList(items: readonly string[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

function kebab(option: string): string {
  return option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}
