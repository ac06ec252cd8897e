/**
 * An error of the admin REST API, sent as an RFC 9457 problem details document
 * (`application/problem+json`). `field` names the request field at fault, as a JSON
 * Pointer into the body or the name of a path or query parameter.
 */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extra: { field?: string; type?: string; [key: string]: unknown } = {},
  ) {
    super(detail ?? title);
    this.name = 'ApiProblem';
  }

  /** Returns the problem document's members. */
  toJSON(): Record<string, unknown> {
    const { type = 'about:blank', ...rest } = this.extra;
    return { type, title: this.title, status: this.status, ...(this.detail === undefined ? {} : { detail: this.detail }), ...rest };
  }
}

/** Builds a 400 problem for one invalid field. */
export function invalidField(field: string, detail: string): ApiProblem {
  return new ApiProblem(400, 'Invalid request', detail, { field });
}

/** Builds a 404 problem for a resource that does not exist. */
export function notFound(what: string): ApiProblem {
  return new ApiProblem(404, 'Not found', `${what} does not exist.`);
}
