/**
 * The dashboard's pages as hash routes, so a page's address can be shared and the browser's back
 * button works: the page is one document served at the API's `/` (by API Gateway under its stage,
 * and by the local runtime), and paths such as `/runs` belong to the API, so the route lives in
 * the fragment, which never reaches a server.
 *
 * ```
 * #/                              the task list
 * #/runs?status=failed&since=24h  runs across tasks, filtered (the filters are in the address)
 * #/tasks/<id>                    one task: its details and history
 * #/tasks/<id>/runs/<runId>       one run
 * ```
 */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'tasks' }
  | { page: 'runs'; query: URLSearchParams }
  | { page: 'task'; taskId: string }
  | { page: 'run'; taskId: string; runId: string };

const dec = (part: string) => {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
};

/** The route a fragment names; anything unknown is the task list. */
export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?', 2);
  const parts = path.split('/').filter(Boolean).map(dec);
  if (parts[0] === 'runs' && parts.length === 1) return { page: 'runs', query: new URLSearchParams(search) };
  if (parts[0] === 'tasks' && parts.length === 2) return { page: 'task', taskId: parts[1] as string };
  if (parts[0] === 'tasks' && parts[2] === 'runs' && parts.length === 4) {
    return { page: 'run', taskId: parts[1] as string, runId: parts[3] as string };
  }
  return { page: 'tasks' };
}

const enc = encodeURIComponent;

/** The fragment of a route (`href` of a link to it). */
export function hrefOf(route: Route): string {
  switch (route.page) {
    case 'tasks':
      return '#/';
    case 'runs': {
      const search = route.query.toString();
      return search ? `#/runs?${search}` : '#/runs';
    }
    case 'task':
      return `#/tasks/${enc(route.taskId)}`;
    case 'run':
      return `#/tasks/${enc(route.taskId)}/runs/${enc(route.runId)}`;
  }
}

/** Goes to a route: a new history entry, or (`replace`) the current one changed in place. */
export function navigate(route: Route, options: { replace?: boolean } = {}): void {
  const href = hrefOf(route);
  if (options.replace) {
    history.replaceState(null, '', `${location.pathname}${location.search}${href}`);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = href;
  }
}

/** The current route, following the address (links, back and forward). */
export function useRoute(): Route {
  const [hash, setHash] = useState(() => location.hash);
  useEffect(() => {
    const onChange = () => setHash(location.hash);
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return parseRoute(hash);
}
