/** TLS material that cannot be used: the message names the file and what is wrong. */
export class TlsMaterialError extends Error {
  override readonly name: string = 'TlsMaterialError';
  constructor(
    message: string,
    readonly file: string,
  ) {
    super(message);
  }
}

/**
 * A CRL older than one already seen from the same issuer: loading it would un-revoke every
 * certificate revoked since. Refused; the previous CRL stays in force.
 */
export class CrlRollbackError extends TlsMaterialError {
  override readonly name = 'CrlRollbackError';
  constructor(
    file: string,
    readonly issuer: string,
    readonly seen: bigint,
    readonly offered: bigint,
  ) {
    super(`${file}: refusing the CRL of ${issuer} with CRL number ${offered}: CRL number ${seen} was already loaded, so this one is older and would un-revoke certificates revoked since; publish a CRL numbered ${seen} or higher`, file);
  }
}
