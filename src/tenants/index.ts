/**
 * Who acts: organizations (brands) and creators, with the followers creators declare per platform,
 * and the API keys everyone acts with (stored as SHA-256 of their secret) and their verification.
 */
export { Authenticator, type Caller } from './authenticator.js';
export { createApiKey, findApiKey, type IssuedKey, type KeyOwner, type Principal, sha256, type StoredKey } from './keys.js';
export {
  countOperatorKeys,
  type Creator,
  creatorEmails,
  type CreatorPlatform,
  declaredFollowers,
  listCreators,
  listOrganizations,
  type Organization,
  revokeApiKey,
  type TenantTables,
} from './repository.js';
export {
  createCreator,
  createOrganization,
  creatorPlatforms,
  declarePlatform,
  getCreator,
  getOrganization,
  issueKey,
  removePlatform,
  type WithApiKey,
} from './tenants.js';
