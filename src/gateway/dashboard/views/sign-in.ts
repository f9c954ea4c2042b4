import { html } from 'hono/html';
import type { Html } from './format.js';

export interface SignInView {
  readonly token: boolean;
  readonly github: boolean;
  readonly error?: string;
  /** Where to go after signing in (a dashboard path). */
  readonly next: string;
}

export function signInBody(v: SignInView): Html {
  return html`<div class="login">
    <h1>Sign in to droidworks</h1>
    ${v.error ? html`<p class="error" role="alert">${v.error}</p>` : ''}
    ${
      v.github
        ? html`<p>
              <a class="btn primary" id="github-sign-in" href="/login/github">Sign in with GitHub</a>
            </p>
            <p class="muted">You see the runs of the repositories you can write to.</p>`
        : ''
    }
    ${
      v.token
        ? html`<form method="post" action="/login">
            <label for="token">Admin token</label>
            <input type="password" id="token" name="token" autocomplete="current-password" required />
            <input type="hidden" name="next" value="${v.next}" />
            <button class="btn" type="submit">Sign in</button>
          </form>`
        : ''
    }
  </div>`;
}
