/**
 * Every bound the engine enforces. Exceeding one is a clear error (54000 for counts, 22001 for
 * text lengths, 22023 for values), never an out-of-memory. Documented in docs/limits.md.
 */
export const Limits = {
  /** Resources in one tenant (database). */
  maxResourcesPerTenant: 100_000,
  /** Live bookings plus holds on one resource. */
  maxAllocationsPerResource: 1_000_000,
  /** Rules on one resource. */
  maxRulesPerResource: 100_000,
  /** Outages on one resource. */
  maxOutagesPerResource: 100_000,
  /** Commands (rows) in one statement or transaction; also the most members one pool booking asks for. */
  maxBatchCommands: 10_000,
  /**
   * Work (member checks and matching steps) one statement's pool rows may take when trying
   * members in order leaves a row short and they are matched by search.
   */
  poolSearchSteps: 300_000,
  /** How far before and after a refused entry's start its offers may start. */
  offerHorizonMs: 7 * 86_400_000,
  /** How far ahead of `after` next_free looks. */
  nextFreeHorizonMs: 366 * 86_400_000,
  /** Rows one SELECT returns. */
  maxResultRows: 1_000_000,
  /** Ids in one IN list, and resources in one availability query. */
  maxIdsPerInList: 1_000,
  /** Characters in an id (resource, rule, booking, hold, user, policy, group). */
  maxIdLength: 255,
  /** Characters in a label or a name. */
  maxLabelLength: 1_024,
  /** Capabilities on one resource or entry, and characters in each. */
  maxCapabilities: 64,
  maxCapabilityLength: 255,
  /** Levels in the resource tree (a root is depth 1). */
  maxTreeDepth: 32,
  /** Concurrent entries a resource can hold. */
  maxCapacity: 1_000_000,
  /** A policy's durations: a century, far beyond any sensible policy, still well within safe integers. */
  maxPolicyMs: 100 * 366 * 86_400_000,
  /** Buffer before or after each entry. */
  maxBufferMs: 30 * 86_400_000,
  /** Length of an availability window. */
  maxWindowMs: 2 * 366 * 86_400_000,
  /** Entries or rules named in one conflict's DETAIL; the rest are counted. */
  maxConflictsNamed: 100,
  /** Characters in a recurrence rule (RRULE) text. */
  maxRRuleLength: 1_024,
  /** A recurrence rule's INTERVAL. */
  maxRRuleInterval: 1_000,
  /** Occurrences a series with COUNT may have. */
  maxSeriesOccurrences: 10_000,
  /** Bookings (or holds) one recurring INSERT row makes. */
  maxSeriesEntries: 1_000,
  /** Occurrences one recurring rule skips (exdates). */
  maxExdates: 1_000,
  /** Earliest and latest instants: 0001-01-01 and 9999-12-31T23:59:59.999Z. */
  minTimeMs: -62_135_596_800_000,
  maxTimeMs: 253_402_300_799_999,
} as const;
