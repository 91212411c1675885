/** "createStripeCustomer" → "Create Stripe customer": step names are data on the job. */
export function stepLabel(name: string): string {
  if (name === 'releaseTenant') return 'Release the tenant';
  const words = name.replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();
  return (words[0].toUpperCase() + words.slice(1)).replace('stripe', 'Stripe');
}

export type JobOutcome = 'completed' | 'rolled_back' | 'failed';
export const SETTLED: readonly string[] = ['completed', 'rolled_back', 'failed'];
