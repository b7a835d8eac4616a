/**
 * "My certificates": each device's certificate with what it is for and when it stops working; a
 * renewal before that (proved with the key in the profile file, read here, never sent), and
 * "I lost this device", which stops it at once.
 */
import {useEffect, useState} from 'preact/hooks';
import type {CertificateSummary, VpnServer} from '../api.js';
import type {PageProps} from '../app.js';
import {ConfirmDialog, download, Facts, Outcome, Link, Notice} from '../ui.js';
import {expiryText, formatDate, problemText, purposeOf, renewable} from '../words.js';

type Dialog = {kind: 'lost'; certificate: CertificateSummary} | {kind: 'renew'; certificate: CertificateSummary} | null;

export function CertificatesPage(props: PageProps) {
  const [certificates, setCertificates] = useState<CertificateSummary[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [dialog, setDialog] = useState<Dialog>(null);
  const [busy, setBusy] = useState(false);
  const [dialogProblem, setDialogProblem] = useState<string | null>(null);
  const [renewFile, setRenewFile] = useState<File | null>(null);
  const now = new Date();

  const load = () =>
    props.api.myCertificates(props.session.user.email).then(
      (list) => setCertificates(list.sort((a, b) => order(a) - order(b) || b.issuedAt.localeCompare(a.issuedAt))),
      (error: unknown) => setProblem(problemText(error)),
    );
  useEffect(() => void load(), []);

  const close = () => {
    setDialog(null);
    setDialogProblem(null);
    setRenewFile(null);
  };

  const revoke = async () => {
    if (dialog?.kind !== 'lost') return;
    setBusy(true);
    try {
      await props.api.revoke(dialog.certificate.serial, 'keyCompromise');
      setDone(`Done: the certificate of "${nameOf(dialog.certificate)}" no longer works. Nobody can connect with the files on that device any more.`);
      close();
      await load();
    } catch (error) {
      setDialogProblem(problemText(error));
    } finally {
      setBusy(false);
    }
  };

  const renew = async () => {
    if (dialog?.kind !== 'renew') return;
    const c = dialog.certificate;
    if (!renewFile) return setDialogProblem('Choose the VPN file (.ovpn) you downloaded for this device first.');
    setBusy(true);
    try {
      const crypto = await import('../crypto/index.js');
      const text = await renewFile.text();
      const oldKey = await crypto.keyFromFile(text);
      if (!oldKey) throw new Error('no key');
      const {request, signature, device} = await crypto.renewalRequest({oldKey, serial: c.serial, email: c.email, profile: c.profile, deviceLabel: c.deviceLabel ?? undefined});
      const outcome = await props.api.renew(c.serial, {csr: request, signature, ...(c.deviceLabel ? {deviceLabel: c.deviceLabel} : {})});
      if (!outcome.certificate) {
        setDone('Your renewal is waiting for an administrator. It will appear here once approved.');
      } else {
        const where = crypto.serverOfProfile(text);
        const servers = await props.api.vpnServers();
        const server: VpnServer = servers.find((s) => where && s.host === where.host && s.port === where.port) ?? servers.find((s) => s.profile === c.profile) ?? {name: 'vpn', location: null, profile: c.profile, ...(where ?? {host: 'vpn', port: 1194, proto: 'udp'})};
        const fileName = crypto.profileFileName(server);
        download(await device.vpnProfile(server, outcome.certificate), fileName, 'application/x-openvpn-profile');
        setDone(`Renewed: a new VPN profile was saved as ${fileName}. Import it the same way as before; the old one stops working.`);
      }
      close();
      await load();
    } catch (error) {
      setDialogProblem(error instanceof Error && error.message === 'no key' ? 'That file holds no key. Choose the VPN file (.ovpn) you downloaded for this device.' : problemText(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        My certificates
      </h1>
      <p class="lead">
        One for each device you set up. Need another one? <Link to="/vpn">Get VPN access</Link>.
      </p>
      <Outcome problem={problem} done={done} />
      {certificates === null && !problem ? <p>Loading your certificates…</p> : null}
      {certificates && certificates.length === 0 ? (
        <p>
          You have no certificates yet. <Link to="/vpn">Get VPN access</Link> to make your first one.
        </p>
      ) : null}
      {certificates && certificates.length > 0 ? (
        <ul class="cards">
          {certificates.map((c) => (
            <li class={`card status-${c.status}`} key={c.serial}>
              <h2 class="card-title">{nameOf(c)}</h2>
              <Facts
                items={[
                  ['For', purposeOf(c.profile)],
                  ['Status', <span class={`badge badge-${c.status === 'valid' && renewable(c, now) ? 'soon' : c.status}`}>{expiryText(c, now)}</span>],
                  ['Made on', formatDate(c.issuedAt)],
                ]}
              />
              {c.status === 'valid' ? (
                <div class="actions">
                  {renewable(c, now) ? (
                    <button type="button" class="primary" onClick={() => setDialog({kind: 'renew', certificate: c})}>
                      Renew<span class="visually-hidden"> {nameOf(c)}</span>
                    </button>
                  ) : null}
                  <button type="button" class="danger-outline" onClick={() => setDialog({kind: 'lost', certificate: c})}>
                    I lost this device<span class="visually-hidden">: {nameOf(c)}</span>
                  </button>
                </div>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
      <ConfirmDialog
        open={dialog?.kind === 'lost'}
        title="Stop this device's access?"
        confirmLabel="Yes, stop it now"
        danger
        busy={busy}
        onConfirm={revoke}
        onCancel={close}
      >
        {dialog?.kind === 'lost' ? (
          <>
            <p>
              The certificate of <strong>{nameOf(dialog.certificate)}</strong> stops working at once: its VPN profile and files can no longer connect to the VPN, for you or for anyone who has the device.
            </p>
            <p>Your other devices keep working. This cannot be undone; you can set up a new device at any time.</p>
            {dialogProblem ? <Notice kind="error">{dialogProblem}</Notice> : null}
          </>
        ) : null}
      </ConfirmDialog>
      <ConfirmDialog open={dialog?.kind === 'renew'} title="Renew this device's access" confirmLabel="Renew" busy={busy} onConfirm={renew} onCancel={close}>
        {dialog?.kind === 'renew' ? (
          <>
            <p>
              To prove this is your device, choose the VPN file you downloaded for <strong>{nameOf(dialog.certificate)}</strong> (it ends in .ovpn, usually in your Downloads folder). It is read here in the browser and never sent.
            </p>
            <div class="field">
              <label for="renew-file">VPN file for this device</label>
              <input id="renew-file" type="file" accept=".ovpn,.pem,.key" onChange={(e) => setRenewFile((e.target as HTMLInputElement).files?.[0] ?? null)} />
            </div>
            {dialogProblem ? <Notice kind="error">{dialogProblem}</Notice> : null}
          </>
        ) : null}
      </ConfirmDialog>
    </section>
  );
}

const nameOf = (c: CertificateSummary) => c.deviceLabel ?? `${purposeOf(c.profile)} certificate`;
const order = (c: CertificateSummary) => ({valid: 0, expired: 1, revoked: 2})[c.status];
