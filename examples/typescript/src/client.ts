// A typed GraphQL call over Node's built-in fetch: the result and variables
// types come with the document (generated into ./gql from schema.graphql).
import type { TypedDocumentString } from './gql/graphql.js';

export type GraphQLErrorBody = {
  message: string;
  path?: ReadonlyArray<string | number>;
  extensions?: { code?: string };
};

/** A request refused as a whole (UNAUTHENTICATED, FORBIDDEN, COST_LIMIT, …). */
export class GraphQLRequestError extends Error {
  constructor(
    readonly errors: readonly GraphQLErrorBody[],
    readonly status: number,
  ) {
    super(errors.map((e) => `${e.extensions?.code ?? 'ERROR'}: ${e.message}`).join('; '));
    this.name = 'GraphQLRequestError';
  }
}

/** One entry of a mutation payload's `errors { field code message }`. */
export type UserErrorBody = { field?: string | null; code: string; message: string };

/** An expected refusal in a mutation's payload: nothing was changed. */
export class RefusedError extends Error {
  constructor(readonly errors: readonly UserErrorBody[]) {
    super(errors.map((e) => `${e.code}${e.field ? ` (${e.field})` : ''}: ${e.message}`).join('; '));
    this.name = 'RefusedError';
  }
}

export type Client = <TResult, TVariables>(
  document: TypedDocumentString<TResult, TVariables>,
  // No second argument for operations without variables.
  ...[variables]: TVariables extends Record<string, never> ? [] : [TVariables]
) => Promise<TResult>;

/** `url` is the server's base URL, `token` an API token (fdt_…) or a session token. */
export function client(url: string, token: string): Client {
  const endpoint = `${url.replace(/\/+$/, '')}/graphql`;
  return async function call<TResult, TVariables>(
    document: TypedDocumentString<TResult, TVariables>,
    ...[variables]: TVariables extends Record<string, never> ? [] : [TVariables]
  ): Promise<TResult> {
    const response = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        // GraphQL over HTTP: this media type gets 4xx statuses for bad requests.
        accept: 'application/graphql-response+json, application/json;q=0.9',
        authorization: `Bearer ${token}`,
      },
      body: JSON.stringify({ query: document.toString(), variables: variables ?? {} }),
      signal: AbortSignal.timeout(30_000),
    });
    const type = response.headers.get('content-type') ?? '';
    if (!type.includes('json')) {
      throw new Error(`HTTP ${response.status} from ${endpoint}: ${await response.text()}`);
    }
    const body = (await response.json()) as { data?: TResult | null; errors?: GraphQLErrorBody[] };
    if (body.errors?.length || body.data == null) {
      throw new GraphQLRequestError(body.errors ?? [{ message: 'no data' }], response.status);
    }
    return body.data;
  };
}

/** A mutation's payload, or a RefusedError when it lists errors (nothing was changed). */
export function ok<T extends { errors: readonly UserErrorBody[] }>(payload: T): T {
  if (payload.errors.length > 0) throw new RefusedError(payload.errors);
  return payload;
}
