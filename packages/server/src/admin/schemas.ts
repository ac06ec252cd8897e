import { Type, type TSchema } from '@sinclair/typebox';

/** RFC 9457 problem details as the admin API sends them. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: "A URI that identifies the problem type, or 'about:blank' when the status code is enough" }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    field: Type.Optional(Type.String({ description: 'The request field at fault: a JSON Pointer into the body, or the name of a path or query parameter' })),
    incident: Type.Optional(Type.String({ description: 'Id of the server log entry of an internal error' })),
  },
  { additionalProperties: true },
);

/** Most items one page of a collection has. */
export const MAX_PAGE_LIMIT = 1000;

/** `?limit=&after=` cursor paging of collections. */
export const PageQuery = {
  limit: Type.Integer({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: 100, description: 'Maximum number of items to return' }),
  after: Type.Optional(Type.String({ minLength: 1, description: 'The `next` value of the previous page' })),
};

/** Builds the schema of a collection page: `next` is the cursor of the following page, null on the last one. */
export function Page<T extends TSchema>(item: T) {
  return Type.Object({ items: Type.Array(item), next: Type.Union([Type.String(), Type.Null()]) });
}

/** A time as an RFC 3339 string in UTC. */
export const Timestamp = Type.String({ description: 'RFC 3339 date and time in UTC' });

/** The empty response of 204 No Content. */
export const NoContent = Type.Null({ description: 'No content' });

/** Formats milliseconds since the Unix epoch as RFC 3339. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString();
}

/** Returns `next` for a page: the cursor of its last item when the page is full. */
export function nextCursor<T>(items: T[], limit: number, cursor: (item: T) => string): string | null {
  return items.length === limit && items.length > 0 ? cursor(items[items.length - 1]!) : null;
}
