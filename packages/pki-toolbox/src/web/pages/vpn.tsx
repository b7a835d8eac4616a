/**
 * "Get VPN access": choose a server, name the device, and the browser makes the key, asks the
 * server for a certificate (sending only the request), and assembles the profile to download.
 */
import {useEffect, useRef, useState} from 'preact/hooks';
import type {Certificate, VpnServer} from '../api.js';
import type {PageProps} from '../app.js';
import type {DeviceCredentials} from '../crypto/index.js';
import {defaultDeviceLabel, detectOs, installSteps, type Os, OS_NAMES} from '../os.js';
import {download, Field, Link, Notice} from '../ui.js';
import {expiryText, problemText} from '../words.js';

type Step = {kind: 'choose'} | {kind: 'working'} | {kind: 'ready'; server: VpnServer; certificate: Certificate; device: DeviceCredentials; fileName: string} | {kind: 'waiting'; server: VpnServer};

const loadCrypto = () => import('../crypto/index.js');

export function VpnPage(props: PageProps) {
  const os = detectOs(navigator.userAgent, navigator.platform);
  const [servers, setServers] = useState<VpnServer[] | null>(null);
  const [chosen, setChosen] = useState<string>('');
  const [label, setLabel] = useState(defaultDeviceLabel(os));
  const [step, setStep] = useState<Step>({kind: 'choose'});
  const [problem, setProblem] = useState<string | null>(null);
  const [labelError, setLabelError] = useState<string | undefined>(undefined);

  useEffect(() => {
    props.api.vpnServers().then(
      (list) => {
        setServers(list);
        if (list.length === 1) setChosen(keyOf(list[0]!));
      },
      (error: unknown) => setProblem(problemText(error)),
    );
    // Start fetching the key code while the person chooses.
    void loadCrypto().catch(() => undefined);
  }, []);

  const create = async (event: Event) => {
    event.preventDefault();
    const server = servers?.find((s) => keyOf(s) === chosen);
    if (!server) {
      setProblem('Choose the VPN server you want to connect to first.');
      document.getElementById(`server-${chosen || keyOf(servers?.[0] ?? ({} as VpnServer))}`)?.focus();
      return;
    }
    const deviceLabel = label.trim();
    if (!deviceLabel) {
      setLabelError('Give this device a name, for example "Work laptop", so you can recognise it later.');
      document.getElementById('device-label')?.focus();
      return;
    }
    setLabelError(undefined);
    setProblem(null);
    setStep({kind: 'working'});
    try {
      const crypto = await loadCrypto();
      const {request, device} = await crypto.newDeviceRequest(props.session.user.email);
      const outcome = await props.api.issue({csr: request, profile: server.profile, deviceLabel: deviceLabel.slice(0, 64)});
      if (!outcome.certificate) {
        setStep({kind: 'waiting', server});
        return;
      }
      const fileName = crypto.profileFileName(server);
      setStep({kind: 'ready', server, certificate: outcome.certificate, device, fileName});
    } catch (error) {
      setProblem(problemText(error));
      setStep({kind: 'choose'});
    }
  };

  if (step.kind === 'ready') return <ProfileReady {...step} os={os} />;

  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Get VPN access
      </h1>
      <p class="lead">Choose where you want to connect. Your computer makes its own key and a ready-to-import VPN profile.</p>
      {problem ? <Notice kind="error">{problem}</Notice> : null}
      {step.kind === 'waiting' ? (
        <Notice kind="info" title="Your request is waiting for an administrator" focus>
          <p>Access to {step.server.name} needs an administrator's approval. You will find it under <Link to="/certificates">My certificates</Link> once approved.</p>
        </Notice>
      ) : null}
      {servers === null && !problem ? <p>Loading the VPN servers…</p> : null}
      {servers && servers.length === 0 ? <Notice kind="info">No VPN servers are set up yet. Ask the IT help desk.</Notice> : null}
      {servers && servers.length > 0 ? (
        <form onSubmit={create} noValidate>
          <fieldset class="servers">
            <legend>VPN server</legend>
            {servers.map((s) => (
              <div class="server" key={keyOf(s)}>
                <input type="radio" name="server" id={`server-${keyOf(s)}`} value={keyOf(s)} checked={chosen === keyOf(s)} onChange={() => setChosen(keyOf(s))} />
                <label for={`server-${keyOf(s)}`}>
                  <span class="server-name">{s.name}</span>
                  {s.location ? <span class="server-location">{s.location}</span> : null}
                  <span class="server-address">
                    {s.host}:{s.port} ({s.proto.toUpperCase()})
                  </span>
                </label>
              </div>
            ))}
          </fieldset>
          <Field id="device-label" label="Name of this device" hint="So you can tell your devices apart later, for example if one is lost." error={labelError}>
            <input
              id="device-label"
              type="text"
              value={label}
              maxLength={64}
              autoComplete="off"
              aria-describedby={labelError ? 'device-label-hint device-label-error' : 'device-label-hint'}
              aria-invalid={labelError ? 'true' : undefined}
              onInput={(e) => setLabel((e.target as HTMLInputElement).value)}
            />
          </Field>
          <button type="submit" class="primary big" disabled={step.kind === 'working'}>
            {step.kind === 'working' ? 'Making your VPN profile…' : 'Create my VPN profile'}
          </button>
          {step.kind === 'working' ? (
            <p role="status" class="hint">
              Making a key on this device and getting it certified. This takes a few seconds.
            </p>
          ) : null}
        </form>
      ) : null}
    </section>
  );
}

const keyOf = (s: Pick<VpnServer, 'host' | 'port' | 'proto'>) => `${s.host}-${s.port}-${s.proto}`.replace(/[^a-zA-Z0-9-]/g, '-');

function ProfileReady(props: {server: VpnServer; certificate: Certificate; device: DeviceCredentials; fileName: string; os: Os}) {
  const [os, setOs] = useState<Os>(props.os);
  const [downloaded, setDownloaded] = useState(false);
  const headingRef = useRef<HTMLHeadingElement>(null);
  useEffect(() => headingRef.current?.focus(), []);

  const save = async () => {
    download(await props.device.vpnProfile(props.server, props.certificate), props.fileName, 'application/x-openvpn-profile');
    setDownloaded(true);
  };
  const steps = installSteps(os, props.fileName);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1} ref={headingRef}>
        Your VPN profile is ready
      </h1>
      <Notice kind="success">
        <p>
          {props.server.name}: {expiryText(props.certificate, new Date()).toLowerCase()}. The key was made on this device; keep the file to yourself.
        </p>
      </Notice>
      <p>
        <button type="button" class="primary big" onClick={save}>
          Download VPN profile ({props.fileName})
        </button>
      </p>
      {downloaded ? <p role="status">Saved to your Downloads folder as {props.fileName}.</p> : null}
      <h2>Install it</h2>
      <div class="os-choice" role="group" aria-label="Steps for">
        {(Object.keys(OS_NAMES) as Os[]).map((o) => (
          <button type="button" key={o} class={o === os ? 'tab current' : 'tab'} aria-pressed={o === os} onClick={() => setOs(o)}>
            {OS_NAMES[o]}
          </button>
        ))}
      </div>
      <ol class="steps" aria-label={`Steps for ${OS_NAMES[os]}`}>
        {steps.map((s) => (
          <li key={s}>{s}</li>
        ))}
      </ol>
      <OtherFormats {...props} />
      <p>
        <Link to="/certificates">See all my certificates</Link>
      </p>
    </section>
  );
}

function OtherFormats(props: {certificate: Certificate; device: DeviceCredentials; server: VpnServer; fileName: string}) {
  const [password, setPassword] = useState('');
  const [again, setAgain] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const base = props.fileName.replace(/\.ovpn$/, '');

  const savePkcs12 = async (event: Event) => {
    event.preventDefault();
    if (password.length < 8) return setError('Choose a password of at least 8 characters. You will type it when you open the file.');
    if (password !== again) return setError('The two passwords are not the same. Type the same password twice.');
    setError(undefined);
    setBusy(true);
    try {
      const bytes = await props.device.pkcs12(props.certificate, password, `${props.certificate.email} (${props.certificate.deviceLabel ?? props.server.name})`);
      download(bytes, `${base}.p12`, 'application/x-pkcs12');
      setSaved(`${base}.p12`);
    } finally {
      setBusy(false);
    }
  };
  const savePem = async (what: 'cert' | 'key' | 'ca') => {
    if (what === 'cert') download(props.certificate.pem, `${base}-certificate.pem`, 'application/x-pem-file');
    if (what === 'ca') download(props.certificate.chainPem, `${base}-ca.pem`, 'application/x-pem-file');
    if (what === 'key') download(await props.device.privateKeyPem(), `${base}-key.pem`, 'application/x-pem-file');
  };
  return (
    <details class="more">
      <summary>Other formats (browsers, other apps, IT experts)</summary>
      <h3>A certificate file for browsers and other apps (.p12)</h3>
      <p>It holds your key too, so it is locked with a password you choose now.</p>
      <form onSubmit={savePkcs12} noValidate>
        <Field id="p12-password" label="Password for the file" error={error}>
          <input id="p12-password" type="password" autoComplete="new-password" value={password} aria-invalid={error ? 'true' : undefined} aria-describedby={error ? 'p12-password-error' : undefined} onInput={(e) => setPassword((e.target as HTMLInputElement).value)} />
        </Field>
        <Field id="p12-again" label="The same password again">
          <input id="p12-again" type="password" autoComplete="new-password" value={again} onInput={(e) => setAgain((e.target as HTMLInputElement).value)} />
        </Field>
        <button type="submit" class="secondary" disabled={busy}>
          {busy ? 'Locking the file…' : 'Download .p12 file'}
        </button>
        {saved ? <p role="status">Saved as {saved}. Open it and type your password to import it.</p> : null}
      </form>
      <h3>Separate files</h3>
      <p>For IT experts and tools that want the pieces one by one (.pem files).</p>
      <div class="actions">
        <button type="button" class="secondary" onClick={() => savePem('cert')}>
          Certificate
        </button>
        <button type="button" class="secondary" onClick={() => savePem('key')}>
          Private key
        </button>
        <button type="button" class="secondary" onClick={() => savePem('ca')}>
          Company CA
        </button>
      </div>
    </details>
  );
}
