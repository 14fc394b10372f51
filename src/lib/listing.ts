import { errors } from '../http/errors.ts';

export interface SortSpec<C extends string> {
  column: C;
  direction: 'asc' | 'desc';
}

/** `sort` must name one of the allowed fields; anything else is a 400 naming `sort`. */
export function resolveSort<C extends string>(
  sort: string | undefined,
  order: 'asc' | 'desc' | undefined,
  allowed: Record<string, C>,
  fallback: SortSpec<C>,
): SortSpec<C> {
  if (sort === undefined) return { column: fallback.column, direction: order ?? fallback.direction };
  // `-created_at` is accepted as shorthand for created_at descending.
  const desc = sort.startsWith('-');
  const field = desc ? sort.slice(1) : sort;
  const column = Object.hasOwn(allowed, field) ? allowed[field] : undefined;
  if (column === undefined) {
    throw errors.badRequest(`Cannot sort by ${JSON.stringify(field)}; use one of: ${Object.keys(allowed).join(', ')}`, 'sort', 'INVALID_SORT');
  }
  return { column, direction: order ?? (desc ? 'desc' : 'asc') };
}

export function slugify(name: string, fallback: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 60)
    .replace(/-+$/g, '');
  return slug || fallback;
}

export const SLUG_PATTERN = '^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$';
