import type {PageProps} from '../app.js';
import {Link} from '../ui.js';

export function HomePage(props: PageProps) {
  const first = (props.session.user.name ?? props.session.user.email).split(/[\s@]/)[0];
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Hello {first}
      </h1>
      <p class="lead">What do you need?</p>
      <ul class="choices">
        <li>
          <Link to="/vpn" class="choice">
            <span class="choice-title">Get VPN access</span>
            <span class="choice-text">A VPN profile for this computer, ready to import.</span>
          </Link>
        </li>
        <li>
          <Link to="/certificates" class="choice">
            <span class="choice-title">My certificates</span>
            <span class="choice-text">See your devices, renew access, or report a lost device.</span>
          </Link>
        </li>
        {props.session.user.admin ? (
          <li>
            <Link to="/admin" class="choice">
              <span class="choice-title">Administration</span>
              <span class="choice-text">Search certificates, approve requests, revocation status, audit trail.</span>
            </Link>
          </li>
        ) : null}
      </ul>
    </section>
  );
}
