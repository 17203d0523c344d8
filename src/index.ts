/** The package's public surface. */
export { AllotServer, type ServerOptions } from './server.js';
export { loadConfig, type Config } from './config.js';
export { Engine } from './engine/engine.js';
export type * from './engine/types.js';
export { AllotError } from './errors.js';
