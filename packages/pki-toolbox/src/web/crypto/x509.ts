/** @peculiar/x509 for the browser: its decorators need reflect-metadata loaded first, once. */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(globalThis.crypto);

export {x509};
