/** Key scopes. `admin`: everything the key's user may do. `read`: no writes at all. */
export const SCOPES = ['admin', 'read'] as const;
export type Scope = (typeof SCOPES)[number];

export function allowsWrite(scopes: readonly string[]): boolean {
  return scopes.includes('admin');
}

/** A key never carries more than the key that mints it. */
export function canMint(minter: readonly string[], requested: readonly string[]): boolean {
  return allowsWrite(minter) || requested.every((s) => s === 'read');
}
