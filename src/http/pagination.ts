/** The pagination contract of SPEC §7: `items, total, page, page_size, pages`; page_size ≤ 100. */
import { z } from 'zod';

export const PaginationQuery = z.object({
  page: z.coerce.number().int().min(1).default(1),
  page_size: z.coerce.number().int().min(1).max(100, 'must be at most 100').default(20),
});

export function pageOf<T>(items: T[], total: number, page: number, pageSize: number) {
  return { items, total, page, page_size: pageSize, pages: Math.ceil(total / pageSize) };
}

/** The envelope's schema around an item schema, for the OpenAPI document. */
export function Paginated<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({ items: z.array(item), total: z.number().int(), page: z.number().int(), page_size: z.number().int(), pages: z.number().int() })
    .openapi(name);
}

/** The keyset extension of the envelope (lists that may be long): where the next page starts, and whether `total` is counted. */
export const CursorPageFields = {
  next_cursor: z
    .string()
    .nullable()
    .openapi({ description: 'pass as `cursor` for the next page (any depth, as fast as the first); null on the last page' }),
  total_is_estimate: z
    .boolean()
    .openapi({ description: "true when `total` (and `pages`) are the planner's estimate: more than 10,000 match" }),
};

/** The envelope with the keyset fields, for the OpenAPI document. */
export function CursorPaginated<T extends z.ZodType>(item: T, name: string) {
  return z
    .object({
      items: z.array(item),
      total: z.number().int(),
      page: z.number().int(),
      page_size: z.number().int(),
      pages: z.number().int(),
      ...CursorPageFields,
    })
    .openapi(name);
}

/** `cursor`: continue after the previous page's last row instead of counting `page`s from the start. */
export const CursorQuery = z.object({
  cursor: z
    .string()
    .min(1)
    .max(2000)
    .optional()
    .openapi({ description: '`next_cursor` of the previous page, unchanged; `page` is then ignored' }),
});

/** `true`/`false` in a query string. */
export const QueryBoolean = z.enum(['true', 'false']).transform((v) => v === 'true');
