/** The GitHub simulator for tests: the product's forge (src/demo/forge), re-exported. */
export { startForge, type Forge, type ForgeOptions } from '../../src/demo/forge/start-forge.js';
export { signBody } from '../../src/demo/forge/webhooks.js';
export type { RecordedRequest } from '../../src/demo/forge/rest-server.js';
export { configureOAuthClient, type ForgeOAuthClient } from '../../src/demo/forge/oauth-web-flow.js';
