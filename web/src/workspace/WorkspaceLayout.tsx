import type { User } from 'firebase/auth';
import { Outlet } from 'react-router';
import { SignedIn } from '../auth/SignedIn';
import { useWorkspaceData } from './useWorkspace';

/** /app: the signed-in person's tenants, shared with the pages below through the outlet context. */
export function Component() {
  return (
    <SignedIn title="Sign in to your workspace" intro="Use the email and password you signed up with.">
      {(user) => <Workspace key={user.uid} user={user} />}
    </SignedIn>
  );
}

function Workspace({ user }: { user: User }) {
  return <Outlet context={useWorkspaceData(user)} />;
}
