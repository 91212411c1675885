export { onUserCreated } from './triggers/auth';
export { provisionTenant, submitSignup } from './triggers/callable';
