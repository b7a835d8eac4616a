/** Administration: the inventory (search, revoke with a reason), waiting requests, revocation status, audit trail. */
import {useEffect, useState} from 'preact/hooks';
import type {AdminStatus, AuditPage, CertificateRequest, CertificateStatus, CertificateSummary} from '../api.js';
import type {PageProps} from '../app.js';
import {ConfirmDialog, Facts, Outcome, Field, Link, Notice} from '../ui.js';
import {expiryText, formatTime, problemText, purposeOf, REVOCATION_REASONS} from '../words.js';

const SECTIONS = [
  {path: '', title: 'Certificates'},
  {path: 'requests', title: 'Waiting requests'},
  {path: 'status', title: 'Revocation status'},
  {path: 'audit', title: 'Audit trail'},
] as const;

export function AdminPage(props: PageProps & {section: string}) {
  const section = SECTIONS.find((s) => s.path === props.section) ?? SECTIONS[0];
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Administration: {section.title.toLowerCase()}
      </h1>
      <nav aria-label="Administration" class="subnav">
        <ul>
          {SECTIONS.map((s) => (
            <li key={s.path}>
              <Link to={`/admin/${s.path}`} current={s === section}>
                {s.title}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      {section.path === '' ? <Inventory {...props} /> : section.path === 'requests' ? <Requests {...props} /> : section.path === 'status' ? <Status {...props} /> : <Audit {...props} />}
    </section>
  );
}

function Inventory(props: PageProps) {
  const [all, setAll] = useState<CertificateSummary[] | null>(null);
  const [text, setText] = useState('');
  const [status, setStatus] = useState<CertificateStatus | ''>('valid');
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [target, setTarget] = useState<CertificateSummary | null>(null);
  const [reason, setReason] = useState('keyCompromise');
  const [busy, setBusy] = useState(false);
  const now = new Date();

  const load = () => props.api.admin.certificates(status ? {status} : {}).then(setAll, (e: unknown) => setProblem(problemText(e)));
  useEffect(() => void load(), [status]);

  const needle = text.trim().toLowerCase();
  const shown = (all ?? []).filter((c) => !needle || [c.email, c.name, c.serial, c.deviceLabel ?? '', c.profile].some((v) => v.toLowerCase().includes(needle)));

  const revoke = async () => {
    if (!target) return;
    setBusy(true);
    try {
      const r = await props.api.admin.revoke(target.serial, reason);
      setDone(`Revoked ${target.serial} (${target.email}). The revocation list is now number ${r.crl.number} with ${r.crl.revoked} entries.`);
      setTarget(null);
      await load();
    } catch (error) {
      setProblem(problemText(error));
      setTarget(null);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <form class="search" role="search" onSubmit={(e) => e.preventDefault()}>
        <Field id="search-text" label="Search by email, name, device or serial">
          <input id="search-text" type="search" value={text} onInput={(e) => setText((e.target as HTMLInputElement).value)} />
        </Field>
        <Field id="search-status" label="Status">
          <select id="search-status" value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value as CertificateStatus | '')}>
            <option value="">All</option>
            <option value="valid">Valid</option>
            <option value="revoked">Revoked</option>
            <option value="expired">Expired</option>
          </select>
        </Field>
      </form>
      <Outcome problem={problem} done={done} />
      {all === null && !problem ? <p>Loading the inventory…</p> : null}
      {all ? (
        <p role="status" class="hint">
          {shown.length} of {all.length} certificates
        </p>
      ) : null}
      <ul class="cards">
        {shown.map((c) => (
          <li class={`card status-${c.status}`} key={c.serial}>
            <h2 class="card-title">{c.email}</h2>
            <Facts
              items={[
                ['For', purposeOf(c.profile)],
                ['Device', c.deviceLabel ?? '–'],
                ['Serial', c.serial, 'mono'],
                ['Status', `${expiryText(c, now)}${c.reason ? ` (${c.reason})` : ''}`],
                ['Approved by', c.approvedBy],
              ]}
            />
            {c.status === 'valid' ? (
              <div class="actions">
                <button type="button" class="danger-outline" onClick={() => setTarget(c)}>
                  Revoke<span class="visually-hidden"> {c.serial}</span>
                </button>
              </div>
            ) : null}
          </li>
        ))}
      </ul>
      <ConfirmDialog open={target !== null} title="Revoke this certificate?" confirmLabel="Revoke" danger busy={busy} onConfirm={revoke} onCancel={() => setTarget(null)}>
        {target ? (
          <>
            <p>
              {target.email}, {target.deviceLabel ?? purposeOf(target.profile)}, serial <span class="mono">{target.serial}</span>. It stops working at once; the revocation list and OCSP say so.
            </p>
            <Field id="revoke-reason" label="Reason">
              <select id="revoke-reason" value={reason} onChange={(e) => setReason((e.target as HTMLSelectElement).value)}>
                {REVOCATION_REASONS.map((r) => (
                  <option key={r.value} value={r.value}>
                    {r.label}
                  </option>
                ))}
              </select>
            </Field>
          </>
        ) : null}
      </ConfirmDialog>
    </>
  );
}

function Requests(props: PageProps) {
  const [requests, setRequests] = useState<CertificateRequest[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [rejecting, setRejecting] = useState<CertificateRequest | null>(null);
  const [why, setWhy] = useState('');
  const [whyError, setWhyError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const load = () => props.api.admin.pendingRequests().then(setRequests, (e: unknown) => setProblem(problemText(e)));
  useEffect(() => void load(), []);

  const approve = async (r: CertificateRequest) => {
    setBusy(true);
    try {
      const outcome = await props.api.admin.approve(r.id);
      setDone(`Approved: ${r.email} now has certificate ${outcome.certificate?.serial ?? ''}.`);
      await load();
    } catch (error) {
      setProblem(problemText(error));
    } finally {
      setBusy(false);
    }
  };
  const reject = async () => {
    if (!rejecting) return;
    if (!why.trim()) return setWhyError('Say why, in a sentence: the requester sees it.');
    setBusy(true);
    try {
      await props.api.admin.reject(rejecting.id, why.trim());
      setDone(`Rejected the request of ${rejecting.email}.`);
      setRejecting(null);
      setWhy('');
      setWhyError(undefined);
      await load();
    } catch (error) {
      setProblem(problemText(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <Outcome problem={problem} done={done} />
      {requests === null && !problem ? <p>Loading the waiting requests…</p> : null}
      {requests && requests.length === 0 ? <p>Nothing is waiting for approval.</p> : null}
      <ul class="cards">
        {(requests ?? []).map((r) => (
          <li class="card" key={r.id}>
            <h2 class="card-title">
              {r.email}: {purposeOf(r.profile)}
            </h2>
            <Facts
              items={[
                ['Asked on', formatTime(r.requestedAt)],
                ['Names asked for', r.sans.length ? r.sans.join(', ') : "only the requester's email"],
                ['Key', r.keyType],
                ['Request', r.id, 'mono'],
              ]}
            />
            <div class="actions">
              <button type="button" class="primary" disabled={busy} onClick={() => approve(r)}>
                Approve<span class="visually-hidden"> the request of {r.email}</span>
              </button>
              <button type="button" class="secondary" disabled={busy} onClick={() => setRejecting(r)}>
                Reject<span class="visually-hidden"> the request of {r.email}</span>
              </button>
            </div>
          </li>
        ))}
      </ul>
      <ConfirmDialog open={rejecting !== null} title="Reject this request?" confirmLabel="Reject" danger busy={busy} onConfirm={reject} onCancel={() => setRejecting(null)}>
        <Field id="reject-reason" label="Why (the requester sees this)" error={whyError}>
          <input id="reject-reason" type="text" value={why} maxLength={500} aria-invalid={whyError ? 'true' : undefined} aria-describedby={whyError ? 'reject-reason-error' : undefined} onInput={(e) => setWhy((e.target as HTMLInputElement).value)} />
        </Field>
      </ConfirmDialog>
    </>
  );
}

function Status(props: PageProps) {
  const [status, setStatus] = useState<AdminStatus | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  useEffect(() => void props.api.admin.status().then(setStatus, (e: unknown) => setProblem(problemText(e))), []);
  if (problem) return <Notice kind="error">{problem}</Notice>;
  if (!status) return <p>Loading the status…</p>;
  const stale = status.crl ? new Date(status.crl.nextUpdate).getTime() < Date.now() : true;
  return (
    <div class="status-grid">
      <div class="card">
        <h2 class="card-title">Revocation list (CRL)</h2>
        {status.crl ? (
          <Facts
            items={[
              ['Number', status.crl.number],
              ['Published', formatTime(status.crl.thisUpdate)],
              ['Next update', `${formatTime(status.crl.nextUpdate)}${stale ? ' (overdue)' : ''}`],
              ['Revoked certificates', status.crl.revoked],
            ]}
          />
        ) : (
          <p>No revocation list has been published yet.</p>
        )}
      </div>
      <div class="card">
        <h2 class="card-title">Online status (OCSP)</h2>
        {status.ocsp ? (
          <Facts
            items={[
              ['Responder certificate', status.ocsp.responderSerial, 'mono'],
              ['Responder valid until', formatTime(status.ocsp.notAfter)],
            ]}
          />
        ) : (
          <p>The OCSP responder is not running.</p>
        )}
      </div>
      <div class="card">
        <h2 class="card-title">Inventory</h2>
        <Facts
          items={[
            ['Valid', status.counts.valid],
            ['Revoked', status.counts.revoked],
            ['Expired', status.counts.expired],
            ['Waiting for approval', <Link to="/admin/requests">{status.counts.pending}</Link>],
          ]}
        />
      </div>
      <div class="card">
        <h2 class="card-title">Policy</h2>
        <Facts
          items={[
            ['Version', status.policy.version],
            ['Set', `${formatTime(status.policy.setAt)} by ${status.policy.setBy}`],
          ]}
        />
      </div>
    </div>
  );
}

function Audit(props: PageProps) {
  const [entries, setEntries] = useState<Record<string, unknown>[]>([]);
  const [next, setNext] = useState<number | null | undefined>(undefined);
  const [problem, setProblem] = useState<string | null>(null);
  const more = (after: number) =>
    props.api.admin.audit({after, limit: 50}).then(
      (page: AuditPage) => {
        setEntries((e) => [...e, ...page.entries]);
        setNext(page.next);
      },
      (e: unknown) => setProblem(problemText(e)),
    );
  useEffect(() => void more(0), []);
  const text = (v: unknown) => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));
  return (
    <>
      {problem ? <Notice kind="error">{problem}</Notice> : null}
      {next === undefined && !problem ? <p>Loading the audit trail…</p> : null}
      <ol class="audit">
        {entries.map((e, i) => {
          const {at, event, seq, hash: _hash, prev: _prev, ...rest} = e as Record<string, unknown>;
          return (
            <li key={text(seq) || i} class="audit-entry">
              <span class="audit-time">{typeof at === 'string' ? formatTime(at) : ''}</span> <strong class="audit-event">{text(event)}</strong>{' '}
              <span class="audit-details mono">{Object.entries(rest)
                  .filter(([, v]) => text(v) !== '')
                  .map(([k, v]) => `${k}=${text(v)}`)
                  .join(' ')}</span>
            </li>
          );
        })}
      </ol>
      {next ? (
        <button type="button" class="secondary" onClick={() => more(next)}>
          Show more
        </button>
      ) : null}
    </>
  );
}
