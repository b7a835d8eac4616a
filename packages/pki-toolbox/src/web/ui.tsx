/** Small pieces every page uses: notices, a confirmation dialog, downloads, links within the Toolbox. */
import type {ComponentChildren, JSX} from 'preact';
import {useEffect, useRef} from 'preact/hooks';

/** Where the Toolbox is mounted ("/" or "/toolbox/"), set by the server in the page. */
export const BASE = document.documentElement.dataset['base'] ?? '/';

export function navigate(path: string): void {
  history.pushState(null, '', BASE + path.replace(/^\//, ''));
  dispatchEvent(new PopStateEvent('popstate'));
}

export function Link(props: {to: string; children: ComponentChildren; class?: string; current?: boolean}) {
  const href = BASE + props.to.replace(/^\//, '');
  const onClick = (event: MouseEvent) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    navigate(props.to);
  };
  return (
    <a href={href} onClick={onClick} class={props.class} aria-current={props.current ? 'page' : undefined}>
      {props.children}
    </a>
  );
}

/** A message: "status" is announced politely, "error" at once. */
export function Notice(props: {kind: 'success' | 'error' | 'info'; title?: string; children?: ComponentChildren; focus?: boolean}) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (props.focus) ref.current?.focus();
  }, [props.focus]);
  return (
    <div ref={ref} class={`notice notice-${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'} tabIndex={props.focus ? -1 : undefined}>
      {props.title ? <p class="notice-title">{props.title}</p> : null}
      {props.children}
    </div>
  );
}

/** A modal confirmation (the browser's own dialog element: focus stays inside, Escape cancels). */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  children: ComponentChildren;
  confirmLabel: string;
  cancelLabel?: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  const titleId = `dialog-${props.title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <dialog ref={ref} aria-labelledby={titleId} onCancel={(e: Event) => (e.preventDefault(), props.onCancel())}>
      <h2 id={titleId}>{props.title}</h2>
      {props.children}
      <div class="actions">
        <button type="button" class={props.danger ? 'danger' : 'primary'} onClick={props.onConfirm} disabled={props.busy}>
          {props.busy ? 'Working…' : props.confirmLabel}
        </button>
        <button type="button" class="secondary" onClick={props.onCancel} disabled={props.busy}>
          {props.cancelLabel ?? 'Cancel'}
        </button>
      </div>
    </dialog>
  );
}

/** Saves bytes or text as a file: a link to an object URL of this page, clicked once. */
export function download(data: string | Uint8Array, fileName: string, type: string): void {
  const blob = new Blob([data as BlobPart], {type});
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function Field(props: {id: string; label: string; hint?: string; error?: string | undefined; children: JSX.Element}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.hint ? (
        <p class="hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      {props.children}
      {props.error ? (
        <p class="field-error" id={`${props.id}-error`}>
          {props.error}
        </p>
      ) : null}
    </div>
  );
}

/** Label and value pairs of a card, as a description list. */
export function Facts(props: {items: [string, ComponentChildren, string?][]}) {
  return (
    <dl class="facts">
      {props.items.map(([label, value, cls]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd class={cls}>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** What the last action came to: a problem (announced at once) or what was done (focused). */
export function Outcome(props: {problem: string | null; done?: string | null}) {
  return (
    <>
      {props.problem ? <Notice kind="error">{props.problem}</Notice> : null}
      {props.done ? (
        <Notice kind="success" focus>
          <p>{props.done}</p>
        </Notice>
      ) : null}
    </>
  );
}
