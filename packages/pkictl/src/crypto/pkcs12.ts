/**
 * PKCS#12 with node-forge. forge's toPkcs12Asn1 parses certificates and keys with its own X.509
 * code, which is RSA-only; so the bags are assembled here from DER that Node produced (any key
 * type), and forge does the PKCS#12 parts: key encryption (PBES2/AES-256), the SafeContents
 * structure and the integrity MAC. Same structure as forge's own, which openssl and Windows read.
 */
import {createHash} from 'node:crypto';
import forge from 'node-forge';

const {asn1, pki, pkcs12, util} = forge;

const seq = (items: forge.asn1.Asn1[]) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, items);
const set = (items: forge.asn1.Asn1[]) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SET, true, items);
const oid = (id: string) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(id).getBytes());
const octets = (bytes: string) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, bytes);
const explicit0 = (items: forge.asn1.Asn1[]) => asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, items);
const int = (n: number) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(n).getBytes());
const binary = (buf: Buffer) => util.binary.raw.encode(new Uint8Array(buf));

function pemToDer(pem: string): Buffer {
  return Buffer.from(pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, ''), 'base64');
}

/** ContentInfo of type data wrapping SafeContents. */
function dataContentInfo(bags: forge.asn1.Asn1[]): forge.asn1.Asn1 {
  return seq([oid(pki.oids.data!), explicit0([octets(asn1.toDer(seq(bags)).getBytes())])]);
}

export function buildPkcs12(params: {keyDer: Buffer; certPems: string[]; password: string; friendlyName: string}): Buffer {
  const leafDer = pemToDer(params.certPems[0]!);
  const localKeyId = createHash('sha1').update(leafDer).digest();
  const attrs = set([
    seq([oid(pki.oids.localKeyId!), set([octets(binary(localKeyId))])]),
    seq([oid(pki.oids.friendlyName!), set([asn1.create(asn1.Class.UNIVERSAL, asn1.Type.BMPSTRING, false, params.friendlyName)])]),
  ]);
  const certBags = params.certPems.map((pem, i) => {
    const bag = [oid(pki.oids.certBag!), explicit0([seq([oid(pki.oids.x509Certificate!), explicit0([octets(binary(pemToDer(pem)))])])])];
    return seq(i === 0 ? [...bag, attrs] : bag);
  });
  const privateKeyInfo = asn1.fromDer(binary(params.keyDer));
  const encrypted = pki.encryptPrivateKeyInfo(privateKeyInfo, params.password, {algorithm: 'aes256', count: 100_000, saltSize: 16, prfAlgorithm: 'sha256'});
  const keyBag = seq([oid(pki.oids.pkcs8ShroudedKeyBag!), explicit0([encrypted]), attrs]);
  const safe = seq([dataContentInfo(certBags), dataContentInfo([keyBag])]);

  // Integrity: HMAC-SHA256 with the PKCS#12 key derivation (ID 3), as OpenSSL 3 writes by default.
  const macSalt = forge.random.getBytesSync(16);
  const count = 100_000;
  const macKey = pkcs12.generateKey(params.password, util.createBuffer(macSalt), 3, count, 32, forge.md.sha256.create());
  const hmac = forge.hmac.create();
  hmac.start('sha256', macKey);
  hmac.update(asn1.toDer(safe).getBytes());
  const macData = seq([
    seq([seq([oid(pki.oids.sha256!), asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, '')]), octets(hmac.digest().getBytes())]),
    octets(macSalt),
    int(count),
  ]);
  const pfx = seq([int(3), seq([oid(pki.oids.data!), explicit0([octets(asn1.toDer(safe).getBytes())])]), macData]);
  return Buffer.from(asn1.toDer(pfx).getBytes(), 'binary');
}
