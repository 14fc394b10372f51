// RFC 4180 CSV, written here: a dozen lines, where a library would still need the formula guard
// below, which none of the common ones applies by default.

/**
 * A field as CSV: quoted when it holds a comma, quote or line break; text that a spreadsheet would
 * run as a formula (starting with =, +, -, @, tab or carriage return) gets a leading apostrophe
 * (OWASP, "CSV injection"). Numbers are written as they are.
 */
function field(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A header line and rows, CRLF-terminated. */
export function toCsv(header: string[], rows: (string | number)[][]): string {
  return [header, ...rows].map((row) => row.map(field).join(',') + '\r\n').join('');
}
