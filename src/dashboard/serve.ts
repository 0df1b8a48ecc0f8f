/**
 * Serves the dashboard page: mount it as the API's `dashboard` dependency (`GET /`). The page is
 * a string built ahead of time (`src/dashboard/generated/bundle.ts`), so it is served the same
 * way by the local runtime and by the API Lambda, with no file system or build step at run time.
 */
import { dashboardCsp, dashboardEtag, dashboardHtml } from './generated/bundle.js';

/** The part of a Hono `Context` the handler reads (a Hono context fits). */
export interface DashboardRequest {
  req: { header(name: string): string | undefined };
}

/**
 * `GET /`: the page, with a strict Content-Security-Policy (the inline script and style by hash,
 * fetches to the same origin only) and an ETag, so browsers revalidate cheaply.
 *
 * @example
 * const app = createApp({ ...deps, dashboard: dashboardHandler });
 */
export function dashboardHandler(c?: DashboardRequest): Response {
  const headers: Record<string, string> = {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': dashboardCsp,
    'cache-control': 'no-cache',
    etag: dashboardEtag,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'x-frame-options': 'DENY',
  };
  const ifNoneMatch = c?.req.header('if-none-match');
  if (ifNoneMatch?.split(',').some((tag) => tag.trim() === dashboardEtag)) {
    return new Response(null, { status: 304, headers });
  }
  return new Response(dashboardHtml, { status: 200, headers });
}
