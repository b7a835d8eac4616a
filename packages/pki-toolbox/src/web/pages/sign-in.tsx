import type {ApiClient} from '../api.js';
import {Notice} from '../ui.js';
import {signInProblem} from '../words.js';

/** Before anything else: sign in with the company account (the server runs the sign-in). */
export function SignInPage(props: {api: ApiClient; ended?: boolean}) {
  const params = new URLSearchParams(window.location.search);
  const code = params.get('loginError');
  const problem = code ? signInProblem(code, params.get('loginMessage') ?? undefined) : null;
  const returnTo = window.location.pathname;
  return (
    <section aria-labelledby="page-title" class="narrow">
      <h1 id="page-title" tabIndex={-1}>
        Get onto the company network
      </h1>
      {props.ended && !problem ? (
        <Notice kind="info" title="Your sign-in has ended">
          <p>Sign in again to go on where you were.</p>
        </Notice>
      ) : null}
      {problem ? (
        <Notice kind="error" title={problem.title}>
          <p>{problem.text}</p>
        </Notice>
      ) : null}
      <p class="lead">Get a VPN profile for your laptop in under a minute. Sign in with your company account first.</p>
      <p>
        <a class="button primary big" href={props.api.signInUrl(returnTo)}>
          Sign in with your company account
        </a>
      </p>
      <p class="hint">Use your work account (name@company). Personal accounts cannot get access.</p>
    </section>
  );
}
