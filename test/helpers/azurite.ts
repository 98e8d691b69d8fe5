/**
 * A private Azurite blob server per test file: the project's one launcher (dev/azurite.ts) in
 * memory, on a free port, run from a temp folder that is removed on stop, stopped by its process id.
 */
export { AZURITE_ACCOUNT, AZURITE_KEY, type Azurite, startAzurite } from '../../dev/azurite.js';
