/**
 * Secrets registered here are replaced by "***" in everything BCL prints or logs: notices,
 * progress, child process output, error messages. Register a secret as soon as it is known.
 */
export class Redactor {
  private readonly secrets = new Set<string>();
  private pattern: RegExp | undefined;

  /** Registers a secret (and its URL-encoded form). Values shorter than 4 characters are ignored. */
  add(secret: string | undefined | null): void {
    if (!secret || secret.length < 4) return;
    const before = this.secrets.size;
    this.secrets.add(secret);
    const encoded = encodeURIComponent(secret);
    if (encoded !== secret) this.secrets.add(encoded);
    if (this.secrets.size !== before) this.pattern = undefined;
  }

  has(text: string): boolean {
    for (const secret of this.secrets) if (text.includes(secret)) return true;
    return false;
  }

  redact(text: string): string {
    if (this.secrets.size === 0 || !text) return text;
    this.pattern ??= new RegExp(
      [...this.secrets]
        .sort((a, b) => b.length - a.length)
        .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('|'),
      'g',
    );
    return text.replace(this.pattern, '***');
  }

  /** Redacts every string inside a JSON-like value (for error details). */
  redactValue<T>(value: T): T {
    if (this.secrets.size === 0) return value;
    if (typeof value === 'string') return this.redact(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.redactValue(v)) as T;
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.redactValue(v)])) as T;
    }
    return value;
  }
}
