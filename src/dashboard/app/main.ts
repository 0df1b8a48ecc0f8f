/** The dashboard's browser entry point (bundled by `src/dashboard/build.ts`). */
import { h, render } from 'preact';
import { adoptTokenFromUrl } from './api.js';
import { App } from './app.js';
import { bootLogin } from './auth-session.js';
import { LoginScreen } from './auth-view.js';

adoptTokenFromUrl();

const root = document.getElementById('app');
// Signs in first when the API names an OIDC provider (on AWS with JWT authorization).
if (root) {
  void bootLogin().then((boot) => {
    if (boot.kind === 'app') render(h(App, null), root);
    else if (boot.kind === 'screen') render(h(LoginScreen, boot), root);
    else render(h('p', { class: 'muted login-screen' }, 'Signing in…'), root);
  });
}
