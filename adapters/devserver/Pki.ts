/**
 * The development API server's public-key infrastructure: an EC P-256 certificate authority, a server certificate for
 * the loopback addresses and client certificates whose subject carries a Kubernetes user (CN) and groups (O). Built
 * with `@peculiar/x509` over WebCrypto, so no `openssl` process is needed; works under Node, Deno and Bun.
 *
 * Every operation exists as an Effect (`makeCa`, `issueServerCert`, `issueClientCert`, `verifyClientCert`) and as a
 * plain promise (`*Async`) for tests of other modules.
 *
 * @module
 */
import * as x509 from "@peculiar/x509"
import * as ErrorBase from "../../core/ErrorBase.ts"
import * as Effect from "effect/Effect"
import * as Encoding from "effect/Encoding"

x509.cryptoProvider.set(globalThis.crypto)

const ec: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" }
const signingAlgorithm: EcdsaParams = { name: "ECDSA", hash: "SHA-256" }
const day = 24 * 60 * 60 * 1000

/** A certificate authority: its certificate (PEM and parsed) and its private key (PKCS#8 PEM and CryptoKey). */
export interface Ca {
  readonly certPem: string
  readonly keyPem: string
  readonly cert: x509.X509Certificate
  readonly privateKey: CryptoKey
}

/** A certificate with its private key, both PEM (the key as PKCS#8). */
export interface KeyPairPem {
  readonly certPem: string
  readonly keyPem: string
}

/** The fields of a {@link PkiError}. */
export interface PkiErrorFields {
  readonly reason: "Generate" | "Parse"
  readonly description: string
}

const PkiErrorBase: ErrorBase.Constructor<"PkiError", PkiErrorFields> = ErrorBase.make(
  "PkiError",
  (e) => `pki: ${e.reason === "Generate" ? "cannot generate" : "cannot parse"}: ${e.description}`,
)

/** Generating or parsing a key or certificate failed. */
export class PkiError extends PkiErrorBase {}

const pem = (label: string, der: ArrayBuffer): string => x509.PemConverter.encode(der, label) + "\n"

const exportKey = async (key: CryptoKey): Promise<string> =>
  pem("PRIVATE KEY", await globalThis.crypto.subtle.exportKey("pkcs8", key))

const generate = (): Promise<CryptoKeyPair> =>
  globalThis.crypto.subtle.generateKey(ec, true, ["sign", "verify"]) as Promise<CryptoKeyPair>

const serial = (): string => {
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16))
  bytes[0] = (bytes[0]! & 0x7f) | 0x01
  return Encoding.encodeHex(bytes)
}

const validity = (years: number) => ({
  notBefore: new Date(Date.now() - 5 * 60 * 1000),
  notAfter: new Date(Date.now() + years * 365 * day),
})

/** Creates a self-signed CA (BasicConstraints CA, keyCertSign) valid for ten years. */
export const makeCaAsync = async (commonName: string): Promise<Ca> => {
  const keys = await generate()
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: [{ CN: [commonName] }],
    keys,
    signingAlgorithm,
    ...validity(10),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  })
  return {
    certPem: cert.toString("pem") + "\n",
    keyPem: await exportKey(keys.privateKey),
    cert,
    privateKey: keys.privateKey,
  }
}

/** Loads a CA from PEM (certificate, PKCS#8 EC P-256 key). */
export const loadCaAsync = async (certPem: string, keyPem: string): Promise<Ca> => {
  const cert = new x509.X509Certificate(certPem)
  const privateKey = await globalThis.crypto.subtle.importKey(
    "pkcs8",
    x509.PemConverter.decodeFirst(keyPem),
    ec,
    true,
    ["sign"],
  )
  return { certPem, keyPem, cert, privateKey }
}

const issue = async (
  ca: Ca,
  subject: x509.JsonName,
  extensions: ReadonlyArray<x509.Extension>,
  usage: x509.ExtendedKeyUsage,
): Promise<KeyPairPem> => {
  const keys = await generate()
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: ca.cert.subjectName,
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm,
    ...validity(1),
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([usage]),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
      ...extensions,
    ],
  })
  return { certPem: cert.toString("pem") + "\n", keyPem: await exportKey(keys.privateKey) }
}

const isIp = (host: string): boolean => /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(":")

/** Issues a server certificate for the given hosts (IP addresses and DNS names go into subjectAltName). */
export const issueServerCertAsync = (ca: Ca, options: { readonly hosts: ReadonlyArray<string> }): Promise<KeyPairPem> =>
  issue(
    ca,
    [{ CN: [options.hosts[0] ?? "localhost"] }],
    [
      new x509.SubjectAlternativeNameExtension(
        options.hosts.map((host): x509.JsonGeneralName => ({ type: isIp(host) ? "ip" : "dns", value: host })),
      ),
    ],
    x509.ExtendedKeyUsage.serverAuth,
  )

/** Issues a client certificate: CN is the Kubernetes user name, each O a group. */
export const issueClientCertAsync = (
  ca: Ca,
  options: { readonly commonName: string; readonly organizations?: ReadonlyArray<string> },
): Promise<KeyPairPem> =>
  issue(
    ca,
    [{ CN: [options.commonName] }, ...(options.organizations ?? []).map((o) => ({ O: [o] }))],
    [],
    x509.ExtendedKeyUsage.clientAuth,
  )

/** The identity a verified client certificate carries. */
export interface CertIdentity {
  readonly user: string
  readonly groups: ReadonlyArray<string>
  /** The SHA-256 of the certificate's DER, lowercase hex (the credential ID kube-apiserver reports). */
  readonly fingerprint: string
}

/**
 * Verifies a DER or PEM client certificate against the CA (signature, validity period) and returns its subject's
 * user and groups, or `undefined` when it was not issued by the CA or is not valid now.
 */
export const verifyClientCertAsync = async (
  ca: Ca,
  raw: Uint8Array | string,
  now: Date = new Date(),
): Promise<CertIdentity | undefined> => {
  try {
    const cert = new x509.X509Certificate(typeof raw === "string" ? raw : new Uint8Array(raw))
    if (cert.issuer !== ca.cert.subject) return undefined
    const ok = await cert.verify({ publicKey: ca.cert.publicKey, date: now })
    if (!ok) return undefined
    const user = cert.subjectName.getField("CN")[0]
    if (user === undefined || user === "") return undefined
    const digest = new Uint8Array(await cert.getThumbprint("SHA-256"))
    const fingerprint = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")
    return { user, groups: cert.subjectName.getField("O"), fingerprint }
  } catch {
    return undefined
  }
}

const lift = <A>(what: PkiErrorFields["reason"], f: () => Promise<A>): Effect.Effect<A, PkiError> =>
  Effect.tryPromise({ try: f, catch: (e) => new PkiError({ reason: what, description: String(e) }) })

/** Creates a self-signed EC P-256 CA. */
export const makeCa = (commonName: string): Effect.Effect<Ca, PkiError> =>
  lift("Generate", () => makeCaAsync(commonName))

/** Loads a CA from PEM. */
export const loadCa = (certPem: string, keyPem: string): Effect.Effect<Ca, PkiError> =>
  lift("Parse", () => loadCaAsync(certPem, keyPem))

/** Issues a server certificate for `hosts` (for example `["127.0.0.1", "localhost"]`). */
export const issueServerCert = (
  ca: Ca,
  options: { readonly hosts: ReadonlyArray<string> },
): Effect.Effect<KeyPairPem, PkiError> => lift("Generate", () => issueServerCertAsync(ca, options))

/** Issues a client certificate with CN = user and O = groups. */
export const issueClientCert = (
  ca: Ca,
  options: { readonly commonName: string; readonly organizations?: ReadonlyArray<string> },
): Effect.Effect<KeyPairPem, PkiError> => lift("Generate", () => issueClientCertAsync(ca, options))

/** Verifies a client certificate against the CA; `undefined` when it is not trusted. */
export const verifyClientCert = (
  ca: Ca,
  raw: Uint8Array | string,
  now?: Date,
): Effect.Effect<CertIdentity | undefined> => Effect.promise(() => verifyClientCertAsync(ca, raw, now))
