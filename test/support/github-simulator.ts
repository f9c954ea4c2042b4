/** The GitHub simulator for tests: the product's forge (src/forge), re-exported. */
export { startForge, type Forge, type ForgeOptions } from '../../src/forge/start-forge.js';
export { signBody } from '../../src/forge/webhooks.js';
export type { RecordedRequest } from '../../src/forge/rest-server.js';
export { configureOAuthClient, type ForgeOAuthClient } from '../../src/forge/oauth-web-flow.js';
