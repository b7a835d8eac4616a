import {conflict} from '@bcl/core';

/** How a person confirms: a prompt at a terminal, or the flag in a non-interactive run. */
export interface Confirmer {
  interactive: boolean;
  /** Asks the person to type `expected`; true when they did. */
  typeToConfirm(options: {message: string; expected: string; flag: string}): Promise<boolean>;
}

export interface DestructiveStep {
  /** What happens, as a sentence without its full stop: "Dropping database shop deletes all its data". */
  what: string;
  /** The name the person types: the database, the user, the spec's instance. */
  expected: string;
  /** The flag that confirms in a non-interactive run (--yes, --allow-destroy). */
  flag: string;
  /** Whether that flag was given. */
  confirmed: boolean;
  /** The error code of a refusal (exit 6). */
  code: string;
  /** What was not done, for the refusal: "nothing was applied". */
  nothingDone: string;
  details?: Record<string, unknown>;
  /** The hint of a non-interactive refusal (default: pass the flag). */
  hint?: string;
}

/**
 * The one gate in front of every destructive step of dbctl (drops, destroying plans, unlock): the
 * flag confirms; without it a person at a terminal types the name, and anything else is exit 6
 * with nothing changed. Non-interactive runs never prompt.
 */
export async function confirmDestructive(confirmer: Confirmer, step: DestructiveStep): Promise<void> {
  if (step.confirmed) return;
  if (!confirmer.interactive) {
    throw conflict(step.code, `${step.what}: not confirmed; ${step.nothingDone}`, {
      hint: step.hint ?? `Pass ${step.flag} to confirm in a non-interactive run.`,
      details: {flag: step.flag, ...step.details},
    });
  }
  const ok = await confirmer.typeToConfirm({message: `${step.what}.`, expected: step.expected, flag: step.flag});
  if (!ok) throw conflict(step.code, `${step.what}: the name typed did not match; ${step.nothingDone}`, {details: {flag: step.flag, ...step.details}});
}
