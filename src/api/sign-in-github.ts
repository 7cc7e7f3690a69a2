/** What signing a person in with GitHub, and knowing what they may see, needs of GitHub. */
export interface SignInGitHub {
  /** GitHub's page that asks the person to authorize the app, coming back to `redirectUri` with `state`. */
  authorizeUrl(state: string, redirectUri: string): string;
  /** The person's user-to-server token for the code GitHub gave the callback; null when GitHub refuses the code. */
  exchangeCode(code: string, redirectUri: string): Promise<{ token: string; expiresAt: Date | null } | null>;
  /** Who the token belongs to. */
  userOf(token: string): Promise<{ login: string; id: number }>;
  /** The repositories the app is installed on that the token's person can read, and whether they may push to each; null when GitHub no longer takes the token (revoked, expired). */
  repositoriesOf(token: string): Promise<PersonRepository[] | null>;
}

export interface PersonRepository {
  id: number;
  /** owner/name */
  fullName: string;
  defaultBranch: string;
  canWrite: boolean;
}
