/** The dashboard's hash routes: every page's address parses back to the page. */
import { describe, expect, it } from 'vitest';
import { hrefOf, parseRoute, type Route } from '../../src/dashboard/app/router.js';
import { apiQueryOf } from '../../src/dashboard/app/runs-page.js';

describe('dashboard routes', () => {
  it('round-trips every page through its address', () => {
    const routes: Route[] = [
      { page: 'tasks' },
      { page: 'runs', query: new URLSearchParams({ status: 'failed,timed-out', since: '24h' }) },
      { page: 'task', taskId: 'nightly.export:eu' },
      { page: 'run', taskId: 'a/b c', runId: '01JQ0000000000000000000000' },
    ];
    for (const route of routes) {
      const back = parseRoute(hrefOf(route));
      expect(back.page).toBe(route.page);
      expect(hrefOf(back)).toBe(hrefOf(route));
    }
    expect(hrefOf({ page: 'task', taskId: 'a/b c' })).toBe('#/tasks/a%2Fb%20c');
  });

  it('takes an unknown or empty address for the task list', () => {
    expect(parseRoute('')).toEqual({ page: 'tasks' });
    expect(parseRoute('#/nowhere/at/all')).toEqual({ page: 'tasks' });
    expect(parseRoute('#token=abc')).toEqual({ page: 'tasks' });
  });

  it("turns the runs page's filters into the API's query", () => {
    const query = apiQueryOf(
      new URLSearchParams({ status: 'failed', since: '1h', taskId: 'x', junk: 'y' }),
      3_600_000,
    );
    expect(Object.fromEntries(query)).toEqual({
      limit: '50',
      status: 'failed',
      taskId: 'x',
      from: new Date(0).toISOString(),
    });
  });
});
