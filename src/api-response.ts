/**
 * How a client of the admin API reads an answer: body text, then JSON, then (on a refusal) the
 * error body. Shared by the `tickwork` CLI and the dashboard, so it uses `fetch`'s `Response`
 * and nothing from Node or the browser beyond it.
 */

/** One refused field, as the API names it. */
export interface ApiErrorDetail {
  field: string;
  message: string;
}

/** What a refusal said: the HTTP status, a code, a message for the user and per-field details. */
export interface ApiRefusal {
  status: number;
  /**
   * The API's own `error.code` (`task_not_found`, …), or `http_<status>` when the answer did not
   * come from the API (API Gateway's `{"message": …}`, a proxy's HTML page, an empty body).
   */
  code: string;
  message: string;
  details: ApiErrorDetail[];
}

/** A parsed answer: the JSON body (undefined when empty or not JSON), or the refusal. */
export type ApiAnswer<T> = { ok: true; body: T } | { ok: false; refusal: ApiRefusal };

interface ErrorBody {
  error?: { code?: string; message?: string; details?: ApiErrorDetail[] };
  message?: string;
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The API's `{error: {code, message, details}}`, else API Gateway's `{message}`, else the text. */
function refusalOf(response: Response, parsed: unknown, text: string): ApiRefusal {
  const body = (parsed !== null && typeof parsed === 'object' ? parsed : {}) as ErrorBody;
  const status = response.status;
  if (body.error?.message) {
    return {
      status,
      code: body.error.code ?? `http_${status}`,
      message: body.error.message,
      details: body.error.details ?? [],
    };
  }
  const message =
    (typeof body.message === 'string' ? body.message : undefined) ??
    (text.trim().slice(0, 200) || `${status} ${response.statusText}`.trim());
  return { status, code: `http_${status}`, message, details: [] };
}

/**
 * Reads a `fetch` response of the admin API.
 *
 * @example
 * const answer = await parseApiResponse<TaskView>(await fetch(url));
 * if (!answer.ok) throw new Error(answer.refusal.message);
 */
export async function parseApiResponse<T>(response: Response): Promise<ApiAnswer<T>> {
  const text = await response.text();
  const parsed = parseJson(text);
  if (response.ok) return { ok: true, body: parsed as T };
  return { ok: false, refusal: refusalOf(response, parsed, text) };
}
