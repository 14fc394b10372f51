/** RFC 3339 in UTC with second precision, the form every timestamp in the API takes. */
export function iso(date: Date): string {
  return date.toISOString().slice(0, 19) + 'Z';
}

export function isoOrNull(date: Date | null): string | null {
  return date === null ? null : iso(date);
}

export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
