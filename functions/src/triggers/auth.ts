import { logger } from 'firebase-functions';
import * as functionsV1 from 'firebase-functions/v1';
import { provisioningDeps } from './deps';
import { DomainError } from '../domain/errors';
import { provisionSelfServe } from '../provisioning/selfServe';

/**
 * Self-serve entry point. v1 because the v2 identity trigger never fires in the emulator of
 * firebase-tools 14. Replays are no-ops: the provisioning key is the uid. An account created
 * unverified (every web signup) waits: the signup callable or `syncEmailVerified` provisions it.
 */
export const onUserCreated = functionsV1.auth.user().onCreate(async (user) => {
  try {
    const result = await provisionSelfServe(provisioningDeps(), user.uid);
    logger.info(result ? 'self-serve tenant provisioned' : 'no signup form yet, or its address is not confirmed; the signup callable will provision', {
      uid: user.uid,
      ...result,
    });
  } catch (error) {
    // A refusal is final (the form is bad for good); the signup callable reports it to the person.
    if (error instanceof DomainError) logger.warn('self-serve provisioning refused', { uid: user.uid, code: error.code, message: error.message });
    else throw error;
  }
});
