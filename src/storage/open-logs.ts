/**
 * A bound on the log files held open across the process. Each database keeps its current log
 * file open while it writes; a server holding more databases than the bound closes the least
 * recently used idle log (nothing queued or in flight) when another opens, and that log opens
 * its file again on its next write. So descriptors stay well under the usual `ulimit -n` of
 * 1,024 however many databases there are (connections take one each too: see docs/limits.md).
 */

/** Log files open at once, process-wide, before idle ones are closed. */
export const MAX_OPEN_LOG_FILES = 256;

/** What the bound needs of a log. */
export interface ClosableLog {
  /** When this log was last written to, as a count of uses (larger is more recent). */
  lastUse: number;
  /** Whether its files can be closed now (nothing queued, in flight, or being switched). */
  readonly idle: boolean;
  /** Closes its files; the next write opens them again. */
  closeFiles(): void;
}

class OpenLogs {
  private readonly open = new Set<ClosableLog>();
  private uses = 0;
  limit = MAX_OPEN_LOG_FILES;

  get size(): number {
    return this.open.size;
  }

  /** Marks `log` as used now. */
  touch(log: ClosableLog): void {
    log.lastUse = ++this.uses;
  }

  /** `log` opened its file: closes the least recently used idle others while over the limit. */
  opened(log: ClosableLog): void {
    this.touch(log);
    this.open.add(log);
    this.trim(log);
  }

  /**
   * Closes least recently used idle logs (never `keep`) while over the limit. When every log is
   * busy the bound is exceeded for as long as they are: logs call this as they go idle.
   */
  trim(keep: ClosableLog | null = null): void {
    while (this.open.size > this.limit) {
      let victim: ClosableLog | null = null;
      for (const l of this.open) if (l !== keep && l.idle && (victim === null || l.lastUse < victim.lastUse)) victim = l;
      if (victim === null) return;
      this.open.delete(victim);
      victim.closeFiles();
    }
  }

  closed(log: ClosableLog): void {
    this.open.delete(log);
  }
}

export const openLogs = new OpenLogs();
