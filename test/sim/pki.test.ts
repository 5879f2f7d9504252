// The simulated cluster's certificates (src/sim/pki.ts, written in DER by hand): a CA that is a
// CA, a serving certificate it signs for 127.0.0.1, localhost and kubernetes.default.svc, whose
// key is the one returned, valid from a day ago for the days asked; and a TLS client that trusts
// the CA, and only it, connects.
import { createPrivateKey, X509Certificate } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { connect } from "node:tls";
import { describe, expect, it } from "vitest";
import { createPki } from "../../src/sim/pki.js";

const day = 24 * 60 * 60 * 1000;

describe("createPki", () => {
  it("a CA, and a server certificate it signs for the API server's names", async () => {
    const before = Date.now();
    const pki = await createPki("test-ca", 3);
    const ca = new X509Certificate(pki.caPem);
    const server = new X509Certificate(pki.certPem);

    expect(ca.subject).toBe("CN=test-ca");
    expect(ca.issuer).toBe("CN=test-ca");
    expect(ca.ca).toBe(true);
    expect(ca.verify(ca.publicKey)).toBe(true);

    expect(server.subject).toBe("CN=kube-apiserver");
    expect(server.issuer).toBe("CN=test-ca");
    expect(server.ca).toBe(false);
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(server.checkIssued(ca)).toBe(true);
    expect(server.subjectAltName).toBe("IP Address:127.0.0.1, DNS:localhost, DNS:kubernetes.default.svc");
    expect(server.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(server.checkHost("kubernetes.default.svc")).toBe("kubernetes.default.svc");
    // Extended key usage: serverAuth only.
    expect(server.keyUsage).toEqual(["1.3.6.1.5.5.7.3.1"]);
    expect(server.checkPrivateKey(createPrivateKey(pki.keyPem))).toBe(true);
    expect(server.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: "prime256v1" });

    for (const cert of [ca, server]) {
      // Validity to the second: from a day before the call, for 3 days after it.
      expect(Date.parse(cert.validFrom)).toBeGreaterThanOrEqual(Math.floor((before - day) / 1000) * 1000);
      expect(Date.parse(cert.validFrom)).toBeLessThanOrEqual(Date.now() - day);
      expect(Date.parse(cert.validTo)).toBeGreaterThanOrEqual(Math.floor((before + 3 * day) / 1000) * 1000);
      expect(Date.parse(cert.validTo)).toBeLessThanOrEqual(Date.now() + 3 * day);
    }
    // Each certificate its own serial number, and each CA its own key.
    expect(server.serialNumber).not.toBe(ca.serialNumber);
    expect(new X509Certificate((await createPki()).caPem).publicKey.equals(ca.publicKey)).toBe(false);
  });

  it("a client that trusts the CA connects over TLS to 127.0.0.1; one that trusts another CA is refused", async () => {
    const pki = await createPki("test-ca", 1);
    const other = await createPki("other-ca", 1);
    const server = createServer({ key: pki.keyPem, cert: pki.certPem }, (_req, res) => res.end("ok"));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const { port } = server.address() as AddressInfo;
    const handshake = (ca: string) =>
      new Promise<string>((resolve) => {
        const socket = connect({ host: "127.0.0.1", port, ca }, () => {
          resolve(socket.authorized ? "authorized" : String(socket.authorizationError));
          socket.end();
        });
        socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      });
    try {
      expect(await handshake(pki.caPem)).toBe("authorized");
      expect(await handshake(other.caPem)).toBe("UNABLE_TO_VERIFY_LEAF_SIGNATURE");
    } finally {
      server.close();
    }
  });
});
