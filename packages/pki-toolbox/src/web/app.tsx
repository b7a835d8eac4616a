/** The Toolbox: who is signed in, which page, and the frame around every page. */
import {useEffect, useState} from 'preact/hooks';
import type {ApiClient, Session} from './api.js';
import {AdminPage} from './pages/admin.js';
import {CertificatesPage} from './pages/certificates.js';
import {HomePage} from './pages/home.js';
import {SignInPage} from './pages/sign-in.js';
import {VpnPage} from './pages/vpn.js';
import {BASE, Link, Notice, navigate} from './ui.js';
import {problemText} from './words.js';

export interface PageProps {
  api: ApiClient;
  session: Session;
}

type Route = 'home' | 'vpn' | 'certificates' | 'admin';

const TITLES: Record<Route, string> = {home: 'Start', vpn: 'Get VPN access', certificates: 'My certificates', admin: 'Administration'};

function routeOf(pathname: string): {route: Route; rest: string} {
  const path = pathname.startsWith(BASE) ? pathname.slice(BASE.length) : pathname.replace(/^\//, '');
  const [first = '', ...rest] = path.split('/');
  const route = (['vpn', 'certificates', 'admin'] as const).find((r) => r === first) ?? 'home';
  return {route, rest: rest.join('/')};
}

export function App(props: {api: ApiClient}) {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [problem, setProblem] = useState<string | null>(null);
  const [ended, setEnded] = useState(false);
  const [location, setLocation] = useState(() => routeOf(window.location.pathname));

  useEffect(() => {
    props.api.whenSignedOut(() => {
      setEnded(true);
      setSession(null);
    });
    props.api.session().then(setSession, (error: unknown) => {
      setProblem(problemText(error));
      setSession(null);
    });
    const onPop = () => setLocation(routeOf(window.location.pathname));
    addEventListener('popstate', onPop);
    return () => removeEventListener('popstate', onPop);
  }, []);

  // The first page a person can use (measured by scripts/bench-toolbox).
  useEffect(() => {
    if (session !== undefined && performance.getEntriesByName('toolbox:interactive').length === 0) performance.mark('toolbox:interactive');
  }, [session]);

  // A new page: its title, and focus on its heading so keyboard and screen-reader users start there.
  useEffect(() => {
    document.title = session === null ? 'Sign in – PKI Toolbox' : `${TITLES[location.route]} – PKI Toolbox`;
    const heading = document.querySelector<HTMLElement>('main h1');
    if (heading && document.activeElement !== document.body) heading.focus();
  }, [location, session]);

  if (session === undefined) return <p class="loading">Loading…</p>;

  const signOut = async () => {
    try {
      await props.api.signOut();
    } finally {
      setSession(null);
      navigate('/');
    }
  };

  return (
    <>
      <a class="skip" href="#main">
        Skip to main content
      </a>
      <header class="top">
        <div class="wrap top-row">
          <Link to="/" class="brand">
            PKI Toolbox
          </Link>
          {session ? (
            <nav aria-label="Main">
              <ul>
                <li>
                  <Link to="/vpn" current={location.route === 'vpn'}>
                    Get VPN access
                  </Link>
                </li>
                <li>
                  <Link to="/certificates" current={location.route === 'certificates'}>
                    My certificates
                  </Link>
                </li>
                {session.user.admin ? (
                  <li>
                    <Link to="/admin" current={location.route === 'admin'}>
                      Administration
                    </Link>
                  </li>
                ) : null}
              </ul>
            </nav>
          ) : null}
          {session ? (
            <div class="who">
              <span class="who-email">{session.user.email}</span>
              <button type="button" class="link-button" onClick={signOut}>
                Sign out
              </button>
            </div>
          ) : null}
        </div>
      </header>
      <main id="main" class="wrap">
        {problem ? <Notice kind="error">{problem}</Notice> : null}
        {session === null ? (
          <SignInPage api={props.api} ended={ended} />
        ) : location.route === 'vpn' ? (
          <VpnPage api={props.api} session={session} />
        ) : location.route === 'certificates' ? (
          <CertificatesPage api={props.api} session={session} />
        ) : location.route === 'admin' && session.user.admin ? (
          <AdminPage api={props.api} session={session} section={location.rest} />
        ) : (
          <HomePage api={props.api} session={session} />
        )}
      </main>
      <footer class="wrap foot">
        <p>Your private key is made on this device and never leaves it. Questions? Ask the IT help desk.</p>
      </footer>
    </>
  );
}
