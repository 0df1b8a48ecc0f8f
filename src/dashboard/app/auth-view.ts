/**
 * What the sign-in shows: who is signed in with "Sign out" (in the header), and the screen
 * shown instead of the dashboard when a sign-in failed or the user signed out.
 */
import { h } from 'preact';
import { currentUser, signInNow, signOutNow } from './auth-session.js';

/** "Signed in as …" and "Sign out", for the header. */
export function Account() {
  const user = currentUser();
  return h(
    'span',
    { class: 'account', 'data-testid': 'account' },
    h('span', { class: 'muted' }, 'Signed in as '),
    h('strong', { 'data-testid': 'signed-in-user' }, user ?? '…'),
    h('button', { type: 'button', class: 'button small', onClick: signOutNow }, 'Sign out'),
  );
}

/** Shown instead of the dashboard: why the user is not signed in, and a way to sign in. */
export function LoginScreen({ title, message }: { title: string; message: string }) {
  return h(
    'div',
    { class: 'app' },
    h('header', { class: 'top' }, h('h1', null, 'Tickwork')),
    h(
      'main',
      { class: 'login-screen', 'data-testid': 'login-screen' },
      h('h2', null, title),
      h('p', { role: title === 'Signed out' ? 'status' : 'alert' }, message),
      h('button', { type: 'button', class: 'button primary', onClick: signInNow }, 'Sign in'),
    ),
  );
}
