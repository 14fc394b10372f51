export const DEFAULT_PER_PAGE = 25;
export const MAX_PER_PAGE = 100;

export interface PageQuery {
  page?: number;
  per_page?: number;
  limit?: number;
}

export interface Page {
  page: number;
  perPage: number;
  offset: number;
}

export interface PageMeta {
  page: number;
  per_page: number;
  total: number;
  count: number;
  current_page: number;
  total_pages: number;
}

export function toPage(q: PageQuery): Page {
  const page = q.page ?? 1;
  const perPage = q.per_page ?? q.limit ?? DEFAULT_PER_PAGE;
  return { page, perPage, offset: (page - 1) * perPage };
}

export function pageMeta(p: Page, total: number, count: number): PageMeta {
  return {
    page: p.page,
    per_page: p.perPage,
    total,
    count,
    current_page: p.page,
    total_pages: Math.max(1, Math.ceil(total / p.perPage)),
  };
}

/** RFC 8288 Link header with first/prev/next/last, keeping every other query parameter. */
export function linkHeader(baseUrl: string, rawQuery: string, meta: PageMeta): string {
  const params = new URLSearchParams(rawQuery);
  params.delete('limit');
  // A key passed as private_token must never be echoed back into links.
  params.delete('private_token');
  const link = (page: number, rel: string) => {
    params.set('page', String(page));
    params.set('per_page', String(meta.per_page));
    return `<${baseUrl}?${params.toString()}>; rel="${rel}"`;
  };
  const parts = [link(1, 'first')];
  if (meta.page > 1) parts.push(link(Math.min(meta.page - 1, meta.total_pages), 'prev'));
  if (meta.page < meta.total_pages) parts.push(link(meta.page + 1, 'next'));
  parts.push(link(meta.total_pages, 'last'));
  return parts.join(', ');
}
