/**
 * pg_description of allot's tables and columns (COMMENT ON …, as obj_description and
 * col_description read them): what each is, in a line, after docs/sql.md.
 */
import type { AllotTable } from '../tables/index.js';

export const TABLE_COMMENTS: Readonly<Record<AllotTable, string>> = {
  resources: 'Things that can be booked, in a tree: capacity, buffers and capabilities.',
  rules: 'Windows that open (or, blocking, close) a resource\'s time.',
  bookings: 'Booked spans of a resource; allot refuses any that would not fit.',
  holds: 'Tentative bookings that lapse at expires_at unless turned into bookings.',
  outages: 'Spans a resource (and everything under it) is out of service.',
  policies: 'Limits on the bookings and holds made under a policy, per user.',
  availability: 'Computed on read: free capacity of resources or pools over a window given in WHERE.',
  allot_export: 'Computed on read: the whole database as JSON lines, as allot export writes it.',
  policy_usage: 'Computed on read: each user\'s bookings and usage under each policy, and what remains.',
};

const ID = 'Unique id; a new ULID when omitted.';
const ENTRY: Readonly<Record<string, string>> = {
  id: ID,
  resource_id: 'The resource this entry is on.',
  start: 'Start of the span (inclusive).',
  end: 'End of the span (exclusive).',
  label: 'Free text.',
  capabilities: 'Capabilities the entry requires of its resource.',
  user_id: 'Who made it (policy quotas count per user).',
  policy_id: 'The policy it is made under.',
};

export const COLUMN_COMMENTS: Readonly<Record<AllotTable, Readonly<Record<string, string>>>> = {
  resources: {
    id: ID,
    parent_id: 'The resource above this one in the tree.',
    name: 'Display name.',
    capacity: 'Entries that may overlap at any instant; 0 makes a grouping node.',
    buffer_before: 'Padding kept free before every entry.',
    buffer_after: 'Padding kept free after every entry.',
    capabilities: 'What the resource supports.',
  },
  rules: {
    id: ID,
    resource_id: 'The resource whose time the rule opens or closes.',
    start: 'Start of the window (inclusive).',
    end: 'End of the window (exclusive).',
    blocking: 'false opens the window, true closes it.',
    policy_id: 'Applies only to entries made under this policy.',
  },
  bookings: { ...ENTRY, group_id: 'Ties bookings made together: they move or cancel as one.' },
  holds: { ...ENTRY, expires_at: 'When the hold lapses.' },
  outages: {
    id: ID,
    resource_id: 'The resource out of service, with everything under it.',
    kind: 'planned (with an end) or unplanned (open until resolved).',
    start: 'Start of the outage.',
    end: 'End of the outage; NULL while an unplanned one is unresolved.',
    sliding_window: 'For unplanned outages: how far ahead entries are evicted.',
    capabilities: 'Empty: the whole resource; else only entries requiring one of these.',
    reason: 'Free text.',
    declared_at: 'When the outage was declared (set by allot).',
  },
  policies: {
    id: ID,
    name: 'Display name.',
    min_duration: 'Shortest booking allowed.',
    max_duration: 'Longest booking allowed.',
    book_ahead: 'A booking starts no later than now + book_ahead.',
    max_bookings: 'Bookings and live holds per user not yet over.',
    max_usage: 'Total length of those.',
    starts_within: 'Instant use: a booking starts no later than now + starts_within.',
    allow_start_in_past: 'How far before now a booking may start.',
  },
  availability: {
    resource_id: 'The resource (NULL when min_available merges resources).',
    start: 'Start of a free span.',
    end: 'End of a free span.',
    free: 'Free capacity (or free resources) over the span.',
  },
  allot_export: { line: 'One JSON line of the export.' },
  policy_usage: {
    user_id: 'The user.',
    policy_id: 'The policy.',
    bookings: 'Bookings and live holds not yet over.',
    usage_ms: 'Their total length, in ms.',
    remaining_bookings: 'Bookings left under max_bookings (NULL: no limit).',
    remaining_usage_ms: 'Usage left under max_usage, in ms (NULL: no limit).',
  },
};
