/**
 * The checked-in page (`src/dashboard/generated/bundle.ts`) is what the sources build to, and
 * `dashboardHandler` serves it with its security headers. No browser needed.
 */
import { describe, expect, it } from 'vitest';
import { buildDashboard } from '../../src/dashboard/build.js';
import { dashboardCsp, dashboardEtag, dashboardHtml } from '../../src/dashboard/generated/bundle.js';
import { dashboardHandler } from '../../src/dashboard/serve.js';

const request = (headers: Record<string, string> = {}) => ({
  req: { header: (name: string) => headers[name.toLowerCase()] },
});

describe('dashboard bundle', () => {
  it('is current: run `npx tsx src/dashboard/build.ts` after changing src/dashboard/app', async () => {
    const built = await buildDashboard();
    expect(
      dashboardHtml === built.html,
      'src/dashboard/generated/bundle.ts is stale: run `npx tsx src/dashboard/build.ts`',
    ).toBe(true);
    expect(dashboardCsp).toBe(built.csp);
    expect(dashboardEtag).toBe(built.etag);
  });

  it('loads nothing from another origin', () => {
    expect(dashboardHtml).not.toMatch(/\b(?:src|href)=["']?(?:https?:)?\/\//i);
    expect(dashboardHtml).not.toMatch(/@import|url\(\s*["']?(?:https?:)?\/\//i);
    expect(dashboardCsp).toContain("default-src 'none'");
    expect(dashboardCsp).toContain("connect-src 'self'");
  });

  it('is served as HTML with a strict CSP, and answers 304 to a matching If-None-Match', async () => {
    const response = dashboardHandler(request());
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('content-security-policy')).toBe(dashboardCsp);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(await response.text()).toBe(dashboardHtml);

    const cached = dashboardHandler(request({ 'if-none-match': dashboardEtag }));
    expect(cached.status).toBe(304);
    expect(await cached.text()).toBe('');
  });
});
