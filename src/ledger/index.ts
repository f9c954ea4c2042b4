export * from './run-event.js';
export * from './run-ledger.js';
export * from './describe-event.js';
export * from './run-status.js';
