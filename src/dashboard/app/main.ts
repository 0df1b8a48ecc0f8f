/** The dashboard's browser entry point (bundled by `src/dashboard/build.ts`). */
import { h, render } from 'preact';
import { adoptTokenFromUrl } from './api.js';
import { App } from './app.js';

adoptTokenFromUrl();

const root = document.getElementById('app');
if (root) render(h(App, null), root);
