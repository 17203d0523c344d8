/** The package's public surface. */
export { AllotServer, type ServerOptions } from './server.js';
export { loadConfig, type Config } from './config.js';
export { Engine } from './engine/engine.js';
export type * from './engine/types.js';
export { AllotError } from './errors.js';
export {
  AllotApi,
  AllotClient,
  AllotClientError,
  channelOf,
  type AllotClientOptions,
  type AllotEvent,
  type AvailabilityQuery,
  type BookingInput as ClientBookingInput,
  type EventSource,
  type FreeSpan as ClientFreeSpan,
  type HoldInput,
  type Instant,
  type OutageInput,
  type PolicyInput,
  type PolicyUsage,
  type PoolBookingInput,
  type ResourceInput,
  type RuleInput,
  type SubscribeOptions,
  type Subscription,
} from './client/index.js';
