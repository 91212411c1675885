import { describe, expect, it } from 'vitest';
import {
  confirmationMailDue,
  SIGNUP_CONFIRMATION_MAIL_LIMIT,
  SIGNUP_CONFIRMATION_RESEND_AFTER_MS,
  signupConfirmationMail,
  unconfirmedSignup,
} from '../../functions/src/domain/signup';

describe('the confirmation a self-serve signup waits for (M5)', () => {
  const now = new Date('2027-01-01T12:00:00Z');
  const ago = (ms: number) => new Date(now.getTime() - ms);

  it('M5: the first mail goes at once; another only after a minute, and never more than the limit', () => {
    expect(confirmationMailDue(undefined, now)).toBe(true);
    expect(confirmationMailDue({ count: 1, lastAt: ago(SIGNUP_CONFIRMATION_RESEND_AFTER_MS - 1) }, now)).toBe(false);
    expect(confirmationMailDue({ count: 1, lastAt: ago(SIGNUP_CONFIRMATION_RESEND_AFTER_MS) }, now)).toBe(true);
    expect(confirmationMailDue({ count: SIGNUP_CONFIRMATION_MAIL_LIMIT, lastAt: ago(86_400_000) }, now)).toBe(false);
  });

  it('M5: the mail carries only our words and the link; the refusal names the address and says what to do', () => {
    const mail = signupConfirmationMail('peter@initech.test', 'https://app.test/auth/action?mode=verifyEmail&oobCode=x');
    expect(mail.message.subject).toBe('Confirm your email address');
    expect(mail.message.html).toContain('<a href="https://app.test/auth/action?mode=verifyEmail&#38;oobCode=x">Confirm your email address</a>');
    const refusal = unconfirmedSignup('peter@initech.test', true);
    expect([refusal.code, refusal.details]).toEqual(['failed-precondition', { reason: 'email-unconfirmed', email: 'peter@initech.test', mailSent: true }]);
    expect(refusal.message).toMatch(/^Confirm your address: we sent a link to peter@initech\.test\. Open it/);
  });
});
