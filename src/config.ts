/**
 * Configuration: ALLOT_* environment variables, each with a command-line flag of the same
 * meaning (`ALLOT_PORT` / `--port`). Flags win over the environment.
 */
export interface Config {
  readonly port: number;
  readonly bind: string;
  readonly dataDir: string;
  /** The password of every database without its own; null: none given, the default applies. */
  readonly password: string;
  readonly passwordIsDefault: boolean;
  readonly tenantPasswords: ReadonlyMap<string, string>;
  readonly authMethod: 'scram-sha-256' | 'password';
  readonly tlsCert: string | null;
  readonly tlsKey: string | null;
  readonly logLevel: string;
  /** Authenticated sessions. */
  readonly maxConnections: number;
  /** Connections accepted and not yet authenticated (TLS, startup, password exchange). */
  readonly maxStartupConnections: number;
  /** Largest protocol message a client may send. */
  readonly maxMessageBytes: number;
  /** Time a new connection has to finish startup and authentication. */
  readonly startupTimeoutMs: number;
  /** Databases (tenants) one server holds. */
  readonly maxTenants: number;
  /** Statements slower than this are logged (0: none). */
  readonly logSlowMs: number;
  /** Port of the Prometheus endpoint; null: no endpoint. */
  readonly metricsPort: number | null;
  readonly metricsBind: string;
  /** How sessions show instants and durations unless they SET allot.times. */
  readonly times: 'timestamptz' | 'ms';
}

const DEFAULT_PASSWORD = 'allot';

interface Option {
  readonly env: string;
  readonly flag: string;
  readonly help: string;
}

export const OPTIONS: readonly Option[] = [
  { env: 'ALLOT_PORT', flag: '--port', help: 'TCP port (default 5433; 0 picks a free one)' },
  { env: 'ALLOT_BIND', flag: '--bind', help: 'address to listen on (default 127.0.0.1)' },
  { env: 'ALLOT_DATA_DIR', flag: '--data-dir', help: 'where databases are stored (default ./data)' },
  { env: 'ALLOT_PASSWORD', flag: '--password', help: 'password for every database (default "allot", with a warning)' },
  { env: 'ALLOT_TENANT_PASSWORDS', flag: '--tenant-passwords', help: 'per-database passwords: db1:pw1,db2:pw2' },
  { env: 'ALLOT_AUTH_METHOD', flag: '--auth-method', help: 'scram-sha-256 (default) or password (cleartext; only over TLS or loopback)' },
  { env: 'ALLOT_TLS_CERT', flag: '--tls-cert', help: 'PEM certificate file; with --tls-key, enables TLS' },
  { env: 'ALLOT_TLS_KEY', flag: '--tls-key', help: 'PEM private key file' },
  { env: 'ALLOT_LOG_LEVEL', flag: '--log-level', help: 'trace, debug, info (default), warn, error, fatal or silent' },
  { env: 'ALLOT_MAX_CONNECTIONS', flag: '--max-connections', help: 'concurrent authenticated client sessions (default 256)' },
  { env: 'ALLOT_MAX_STARTUP_CONNECTIONS', flag: '--max-startup-connections', help: 'connections still connecting or authenticating (default 256)' },
  { env: 'ALLOT_MAX_MESSAGE_BYTES', flag: '--max-message-bytes', help: 'largest protocol message accepted (default 16777216)' },
  { env: 'ALLOT_STARTUP_TIMEOUT_MS', flag: '--startup-timeout-ms', help: 'time to finish connecting and authenticating (default 10000)' },
  { env: 'ALLOT_MAX_TENANTS', flag: '--max-tenants', help: 'databases one server holds (default 1000)' },
  { env: 'ALLOT_LOG_SLOW_MS', flag: '--log-slow-ms', help: 'log statements slower than this many ms (default 1000; 0: none)' },
  { env: 'ALLOT_METRICS_PORT', flag: '--metrics-port', help: 'serve Prometheus metrics at http://BIND:PORT/metrics (default: off)' },
  { env: 'ALLOT_METRICS_BIND', flag: '--metrics-bind', help: 'address of the metrics endpoint (default 127.0.0.1)' },
  { env: 'ALLOT_TIMES', flag: '--times', help: 'instants and durations as timestamptz and interval (default) or ms (bigint milliseconds, as deltat)' },
];

export class ConfigError extends Error {}

function int(name: string, v: string | undefined, def: number, min: number, max: number): number {
  if (v === undefined || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${v}"`);
  return n;
}

function parseTenantPasswords(v: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (v === undefined || v.trim() === '') return out;
  for (const part of v.split(',')) {
    const i = part.indexOf(':');
    if (i <= 0 || i === part.length - 1) throw new ConfigError(`ALLOT_TENANT_PASSWORDS: "${part}" is not db:password`);
    out.set(part.slice(0, i).trim(), part.slice(i + 1));
  }
  return out;
}

/** Reads flags (`--port 5433` or `--port=5433`) over environment variables. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config {
  const values = new Map<string, string>();
  for (const o of OPTIONS) {
    const v = env[o.env];
    if (v !== undefined) values.set(o.env, v);
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const o = OPTIONS.find((x) => x.flag === flag);
    if (o === undefined) throw new ConfigError(`unknown option ${flag} (see --help)`);
    const v = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (v === undefined) throw new ConfigError(`${flag} needs a value`);
    values.set(o.env, v);
  }
  const g = (k: string): string | undefined => values.get(k);
  const auth = g('ALLOT_AUTH_METHOD') ?? 'scram-sha-256';
  if (auth !== 'scram-sha-256' && auth !== 'password') throw new ConfigError(`ALLOT_AUTH_METHOD must be scram-sha-256 or password, got "${auth}"`);
  const tlsCert = g('ALLOT_TLS_CERT') ?? null;
  const tlsKey = g('ALLOT_TLS_KEY') ?? null;
  if ((tlsCert === null) !== (tlsKey === null)) throw new ConfigError('ALLOT_TLS_CERT and ALLOT_TLS_KEY go together');
  const password = g('ALLOT_PASSWORD');
  const times = g('ALLOT_TIMES') ?? 'timestamptz';
  if (times !== 'timestamptz' && times !== 'ms') throw new ConfigError(`ALLOT_TIMES must be timestamptz or ms, got "${times}"`);
  return {
    port: int('ALLOT_PORT', g('ALLOT_PORT'), 5433, 0, 65_535),
    bind: g('ALLOT_BIND') ?? '127.0.0.1',
    dataDir: g('ALLOT_DATA_DIR') ?? './data',
    password: password ?? DEFAULT_PASSWORD,
    passwordIsDefault: password === undefined,
    tenantPasswords: parseTenantPasswords(g('ALLOT_TENANT_PASSWORDS')),
    authMethod: auth,
    tlsCert,
    tlsKey,
    logLevel: g('ALLOT_LOG_LEVEL') ?? 'info',
    maxConnections: int('ALLOT_MAX_CONNECTIONS', g('ALLOT_MAX_CONNECTIONS'), 256, 1, 100_000),
    maxStartupConnections: int('ALLOT_MAX_STARTUP_CONNECTIONS', g('ALLOT_MAX_STARTUP_CONNECTIONS'), 256, 1, 100_000),
    maxMessageBytes: int('ALLOT_MAX_MESSAGE_BYTES', g('ALLOT_MAX_MESSAGE_BYTES'), 16 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    startupTimeoutMs: int('ALLOT_STARTUP_TIMEOUT_MS', g('ALLOT_STARTUP_TIMEOUT_MS'), 10_000, 100, 3_600_000),
    maxTenants: int('ALLOT_MAX_TENANTS', g('ALLOT_MAX_TENANTS'), 1_000, 1, 100_000),
    logSlowMs: int('ALLOT_LOG_SLOW_MS', g('ALLOT_LOG_SLOW_MS'), 1_000, 0, 86_400_000),
    metricsPort:
      g('ALLOT_METRICS_PORT') === undefined || g('ALLOT_METRICS_PORT') === '' ? null : int('ALLOT_METRICS_PORT', g('ALLOT_METRICS_PORT'), 0, 0, 65_535),
    metricsBind: g('ALLOT_METRICS_BIND') ?? '127.0.0.1',
    times,
  };
}

export function helpText(): string {
  const lines = OPTIONS.map((o) => `  ${o.flag.padEnd(22)} ${o.env.padEnd(26)} ${o.help}`);
  return ['usage: allot [serve] [options]', '', 'options (flag, environment variable, meaning):', ...lines].join('\n');
}
