/**
 * Metrics in Prometheus's text format (prom-client, one registry per server), served over HTTP
 * when ALLOT_METRICS_PORT is set: connections (and those still authenticating), output waiting
 * for clients, statements by kind, errors by SQLSTATE, commit batch sizes, fsync latency,
 * allocations and listeners per database.
 */
import { createServer, type Server } from 'node:http';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** One open database, as the per-database gauges read it. */
export interface DatabaseStats {
  readonly name: string;
  readonly bookings: number;
  readonly holds: number;
  readonly listeners: number;
  readonly readOnly: boolean;
}

/** What the metrics read from the server when scraped. */
export interface MetricsSource {
  readonly connectionCount: number;
  /** Connections accepted and not yet authenticated. */
  readonly startupConnectionCount: number;
  /** Bytes of replies and notifications waiting for clients to read them. */
  outputQueuedBytes(): number;
  databases(): Iterable<DatabaseStats>;
}

export class Metrics {
  readonly registry = new Registry();
  private readonly connectionsTotal: Counter;
  private readonly statements: Counter<'kind'>;
  private readonly errors: Counter<'sqlstate'>;
  private readonly batchRecords: Histogram;
  private readonly fsyncSeconds: Histogram;
  private readonly slowStatements: Counter;
  private readonly byKind = new Map<string, { inc(): void }>();
  private readonly bySqlstate = new Map<string, { inc(): void }>();

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    new Gauge({
      name: 'allot_connections',
      help: 'Client sessions open now (authenticated).',
      registers,
      collect() {
        this.set(source.connectionCount);
      },
    });
    new Gauge({
      name: 'allot_startup_connections',
      help: 'Connections accepted and not yet authenticated (bounded by ALLOT_MAX_STARTUP_CONNECTIONS).',
      registers,
      collect() {
        this.set(source.startupConnectionCount);
      },
    });
    new Gauge({
      name: 'allot_output_queued_bytes',
      help: 'Bytes of replies and notifications waiting in sockets for clients to read them.',
      registers,
      collect() {
        this.set(source.outputQueuedBytes());
      },
    });
    this.connectionsTotal = new Counter({ name: 'allot_connections_total', help: 'Client sessions started (authenticated).', registers });
    this.statements = new Counter({
      name: 'allot_statements_total',
      help: 'Statements run, by kind (select, insert, update, delete, begin, commit, set, listen, ...).',
      labelNames: ['kind'],
      registers,
    });
    this.errors = new Counter({ name: 'allot_errors_total', help: 'Errors sent to clients, by SQLSTATE.', labelNames: ['sqlstate'], registers });
    this.slowStatements = new Counter({ name: 'allot_slow_statements_total', help: 'Statements that took longer than ALLOT_LOG_SLOW_MS.', registers });
    this.batchRecords = new Histogram({
      name: 'allot_commit_batch_records',
      help: 'Log records made durable by one fdatasync (group commit batch size).',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
      registers,
    });
    this.fsyncSeconds = new Histogram({
      name: 'allot_fsync_seconds',
      help: 'Time of one log fdatasync.',
      buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers,
    });
    const perDatabase = (name: string, help: string, pick: (d: DatabaseStats) => number): void => {
      new Gauge({
        name,
        help,
        labelNames: ['database'],
        registers,
        collect() {
          this.reset();
          for (const d of source.databases()) this.set({ database: d.name }, pick(d));
        },
      });
    };
    perDatabase('allot_bookings', 'Bookings held, per database.', (d) => d.bookings);
    perDatabase('allot_holds', 'Holds held (live, or expired and not yet reaped), per database.', (d) => d.holds);
    perDatabase('allot_listeners', 'Connections LISTENing, per database.', (d) => d.listeners);
    perDatabase('allot_read_only', '1 when a storage failure turned the database read-only.', (d) => (d.readOnly ? 1 : 0));
  }

  connectionStarted(): void {
    this.connectionsTotal.inc();
  }

  /** Counted on every statement: the labelled child is looked up once per kind, not per call. */
  statement(kind: string): void {
    let child = this.byKind.get(kind);
    if (child === undefined) this.byKind.set(kind, (child = this.statements.labels(kind)));
    child.inc();
  }

  error(sqlstate: string): void {
    let child = this.bySqlstate.get(sqlstate);
    if (child === undefined) this.bySqlstate.set(sqlstate, (child = this.errors.labels(sqlstate)));
    child.inc();
  }

  slowStatement(): void {
    this.slowStatements.inc();
  }

  commitBatch(records: number, syncMs: number): void {
    this.batchRecords.observe(records);
    this.fsyncSeconds.observe(syncMs / 1000);
  }

  /** The exposition text of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** Serves GET /metrics (and nothing else) on `bind:port`. */
  async serve(bind: string, port: number): Promise<{ server: Server; port: number }> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || (req.url !== '/metrics' && !req.url?.startsWith('/metrics?'))) {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('allot serves only GET /metrics here\n');
        return;
      }
      this.text().then(
        (body) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(body),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(err)}\n`),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, bind, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    return { server, port: typeof addr === 'object' && addr !== null ? addr.port : port };
  }
}
