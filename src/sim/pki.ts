// A certificate authority made at start-up, and the serving certificate for 127.0.0.1 it signs:
// the simulated API server speaks HTTPS like a real one, and clients verify it through the
// kubeconfig's CA. ECDSA P-256 keeps generation in the low milliseconds.
//
// The certificates are written here in DER (X.509 v3, RFC 5280) and signed with node:crypto:
// two certificates of a fixed shape need a few dozen lines of encoding, where a general X.509
// library (with its ASN.1 schema and dependency-injection runtime) was two thirds of the
// simulator's bundle and tens of milliseconds of every `--sim` start.
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";

const day = 24 * 60 * 60 * 1000;

export interface Pki {
  /** PEM of the CA certificate: what a kubeconfig trusts. */
  caPem: string;
  /** PEM of the server certificate and its PKCS#8 key. */
  certPem: string;
  keyPem: string;
}

// --- DER: tag, length, content ---------------------------------------------------------------

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
}

const sequence = (...content: Buffer[]) => tlv(0x30, ...content);
const set = (...content: Buffer[]) => tlv(0x31, ...content);
/** [n] EXPLICIT: a constructed, context-specific tag around the content. */
const explicit = (n: number, content: Buffer) => tlv(0xa0 + n, content);
const boolTrue = tlv(0x01, Buffer.from([0xff]));
const octetString = (content: Buffer) => tlv(0x04, content);
const utf8String = (text: string) => tlv(0x0c, Buffer.from(text, "utf8"));
/** A BIT STRING of whole bytes, or of `bits` flags numbered from the first byte's top bit. */
const bitString = (content: Buffer, unusedBits = 0) => tlv(0x03, Buffer.from([unusedBits]), content);

/** A non-negative INTEGER from its big-endian bytes (a leading 0 when the top bit is set). */
function integer(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0 && (bytes[start + 1] as number) < 0x80) start++;
  const minimal = bytes.subarray(start);
  return tlv(0x02, (minimal[0] as number) >= 0x80 ? Buffer.concat([Buffer.from([0]), minimal]) : minimal);
}

function objectId(dotted: string): Buffer {
  const [first = 0, second = 0, ...rest] = dotted.split(".").map(Number);
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const base128 = [arc % 128];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) base128.unshift(0x80 | (v % 128));
    bytes.push(...base128);
  }
  return tlv(0x06, Buffer.from(bytes));
}

/** UTCTime until 2049, GeneralizedTime from 2050 (RFC 5280 4.1.2.5), to the second. */
function time(date: Date): Buffer {
  const text = date
    .toISOString()
    .replace(/[-:T]/g, "")
    .replace(/\.\d+Z$/, "Z");
  return date.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(text.slice(2))) : tlv(0x18, Buffer.from(text));
}

// --- X.509 ----------------------------------------------------------------------------------

const oids = {
  commonName: "2.5.4.3",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  basicConstraints: "2.5.29.19",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
};

/** A Name of one common name (CN=...). */
const name = (commonName: string) =>
  sequence(set(sequence(objectId(oids.commonName), utf8String(commonName))));

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return sequence(objectId(oid), ...(critical ? [boolTrue] : []), octetString(value));
}

/** keyUsage bits (RFC 5280 4.2.1.3): digitalSignature 0, keyCertSign 5, cRLSign 6. */
function keyUsage(bits: readonly number[]): Buffer {
  const last = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(last / 8) + 1);
  for (const bit of bits)
    bytes[Math.floor(bit / 8)] = (bytes[Math.floor(bit / 8)] as number) | (0x80 >> (bit % 8));
  return bitString(bytes, 7 - (last % 8));
}

/** A positive serial number of 8 random bytes. */
function serial(): Buffer {
  const bytes = randomBytes(8);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x40;
  return integer(bytes);
}

interface Certificate {
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  signingKey: KeyObject;
  extensions: Buffer[];
}

/** The certificate, signed by `signingKey` with ECDSA and SHA-256, as DER. */
function certificate(c: Certificate): Buffer {
  const algorithm = sequence(objectId(oids.ecdsaWithSha256));
  const tbs = sequence(
    explicit(0, integer(Buffer.from([2]))), // v3
    serial(),
    algorithm,
    name(c.issuer),
    sequence(time(c.notBefore), time(c.notAfter)),
    name(c.subject),
    c.publicKey.export({ type: "spki", format: "der" }),
    explicit(3, sequence(...c.extensions)),
  );
  // node:crypto writes an ECDSA signature as DER (the Ecdsa-Sig-Value X.509 wants).
  return sequence(tbs, algorithm, bitString(sign("sha256", tbs, c.signingKey)));
}

function pem(label: string, der: Buffer): string {
  const base64 = der.toString("base64").replace(/.{64}/g, "$&\n");
  return `-----BEGIN ${label}-----\n${base64.trimEnd()}\n-----END ${label}-----\n`;
}

export async function createPki(commonName = "kvmig-sim-ca", validDays = 365): Promise<Pki> {
  const now = Date.now();
  const notBefore = new Date(now - day);
  const notAfter = new Date(now + validDays * day);
  const caKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const ca = certificate({
    subject: commonName,
    issuer: commonName,
    notBefore,
    notAfter,
    publicKey: caKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      extension(oids.basicConstraints, true, sequence(boolTrue)),
      extension(oids.keyUsage, true, keyUsage([5, 6])),
    ],
  });
  const serverKeys = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const server = certificate({
    subject: "kube-apiserver",
    issuer: commonName,
    notBefore,
    notAfter,
    publicKey: serverKeys.publicKey,
    signingKey: caKeys.privateKey,
    extensions: [
      extension(
        oids.subjectAltName,
        false,
        sequence(
          tlv(0x87, Buffer.from([127, 0, 0, 1])), // iPAddress
          tlv(0x82, Buffer.from("localhost")), // dNSName
          tlv(0x82, Buffer.from("kubernetes.default.svc")),
        ),
      ),
      extension(oids.keyUsage, true, keyUsage([0])),
      extension(oids.extKeyUsage, false, sequence(objectId(oids.serverAuth))),
    ],
  });
  return {
    caPem: pem("CERTIFICATE", ca),
    certPem: pem("CERTIFICATE", server),
    keyPem: serverKeys.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}
